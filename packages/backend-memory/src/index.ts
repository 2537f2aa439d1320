import type { BackendFactory, BackendOptions } from "@carrot/core/backend";
import { InvalidOptionsError } from "@carrot/core/backend";
import { MemoryBackend } from "./memory-backend.js";
import { MemoryBroker } from "./memory-broker.js";

export { DEFAULT_MAX_MESSAGE_SIZE } from "./capabilities.js";
export { MemoryBackend, type MemoryBackendOptions } from "./memory-backend.js";
export { MemoryBroker } from "./memory-broker.js";

// The module augmented below must be in the program: an augmentation alone does not load it.
import type {} from "@carrot/core";

declare module "@carrot/core" {
  /** memory:// takes no `transportOptions`. */
  interface TransportOptionsByScheme {
    /** None: the in-process broker has no client library to configure. */
    memory: never;
  }
}

/**
 * `memory://` is the process-wide broker named "default"; `memory://name` is
 * the broker of that name, shared by every Connection that names it.
 * `?maxMessageSize=N` sets the size limit (bytes) of that connection.
 * It takes no `transportOptions`: a key there is an `InvalidOptionsError`.
 */
export const memoryBackend: BackendFactory = {
  name: "memory",
  schemes: ["memory"],
  create(options: BackendOptions) {
    const [key] = Object.keys(options.transportOptions ?? {});
    if (key !== undefined)
      throw new InvalidOptionsError(`memory:// takes no transportOptions, got '${key}'`);
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
