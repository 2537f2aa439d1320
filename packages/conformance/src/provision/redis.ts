import { freePort } from "../free-port.js";
import type { BrokerRecipe } from "./broker-recipe.js";
import { inContainer } from "./containers.js";
import { findExecutable } from "./executables.js";
import { startLocalProcess } from "./local-process.js";
import { answersRedis } from "./protocol-probes.js";
import { tempDir } from "./temp-dir.js";

/** Where to look for a Redis, and which one to start. */
export interface RedisRecipeOptions {
  /** Where a running Redis is looked for; `redis://127.0.0.1:6379` by default. */
  defaultUrl?: string;
  /** The container image; `redis:7.2-alpine` by default. */
  image?: string;
}

/** Redis for the tests: `CARROT_REDIS_URL`, port 6379, `@testcontainers/redis`, or `redis-server`. */
export function redisRecipe(options: RedisRecipeOptions = {}): BrokerRecipe {
  const image = options.image ?? "redis:7.2-alpine";
  return {
    name: "Redis",
    envVar: "CARROT_REDIS_URL",
    defaultUrl: options.defaultUrl ?? "redis://127.0.0.1:6379",
    answers: answersRedis,
    install:
      "install Redis, whose redis-server is started here (apt-get install redis-server; brew install redis)",
    container: () =>
      inContainer(
        "testcontainers @testcontainers/redis",
        () => import("@testcontainers/redis"),
        async ({ RedisContainer }) => {
          const started = await new RedisContainer(image).start();
          return {
            url: started.getConnectionUrl(),
            detail: `container ${image}`,
            stop: async () => void (await started.stop()),
          };
        },
      ),
    localBinary: async () => {
      const command = findExecutable("redis-server", [
        "/usr/sbin",
        "/usr/local/bin",
        "/opt/homebrew/bin",
      ]);
      if (!command) return { skipped: "redis-server is not installed" };
      const port = await freePort();
      const url = `redis://127.0.0.1:${port}`;
      const dir = await tempDir("redis");
      // In memory only; the folder holds nothing unless a test asks Redis to save.
      const server = await startLocalProcess({
        name: "redis-server",
        command,
        args: [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          "no",
          "--dir",
          dir,
        ],
        env: { PATH: process.env.PATH },
        dir,
        ready: () => answersRedis(url),
        startTimeoutMs: 30_000,
      });
      return {
        url,
        detail: `redis-server (pid ${server.pid}) in ${dir}`,
        stop: () => server.stop(),
      };
    },
  };
}
