import type { BackendFactory, BackendOptions } from "@carrot/core/backend";
import { InvalidOptionsError } from "@carrot/core/backend";
import { MemoryBackend } from "./memory-backend.js";
import { MemoryBroker } from "./memory-broker.js";

export { DEFAULT_MAX_MESSAGE_SIZE } from "./capabilities.js";
export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
export { MemoryBroker } from "./memory-broker.js";

/**
 * `memory://` is the process-wide broker named "default"; `memory://name` is
 * the broker of that name, shared by every Connection that names it.
 * `?maxMessageSize=N` sets the size limit (bytes) of that connection.
 */
export const memoryBackend: BackendFactory = {
  name: "memory",
  schemes: ["memory"],
  create(options: BackendOptions) {
    const url = new URL(options.url ?? "memory://");
    const size = url.searchParams.get("maxMessageSize");
    const maxMessageSize = size === null ? undefined : Number(size);
    if (maxMessageSize !== undefined && !(Number.isInteger(maxMessageSize) && maxMessageSize > 0)) {
      throw new InvalidOptionsError(
        `memory:// maxMessageSize must be a whole number of bytes > 0, got '${size}'`,
      );
    }
    return new MemoryBackend({
      broker: MemoryBroker.named(url.hostname || "default"),
      maxMessageSize,
    });
  },
};

export default memoryBackend;
