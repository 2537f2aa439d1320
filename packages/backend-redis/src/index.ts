import type { BackendFactory, BackendOptions } from "@carrot/core/backend";
import { RedisBackend } from "./redis-backend.js";
import { resolveRedisOptions } from "./redis-options.js";

export type { KeyLayout } from "./key-layout.js";
export { RedisBackend } from "./redis-backend.js";
export type {
  ClusterSeedNode,
  RedisBackendSettings,
  RedisTransportOptions,
} from "./redis-options.js";

/** `redis://` and `rediss://` (TLS), `redis+cluster://` and `rediss+cluster://` (a Redis Cluster); Sentinel and other ioredis options through `transportOptions`. */
export const redisBackend: BackendFactory = {
  name: "redis",
  schemes: ["redis", "rediss", "redis+cluster", "rediss+cluster"],
  create(options: BackendOptions) {
    return new RedisBackend(resolveRedisOptions(options));
  },
};

export default redisBackend;
