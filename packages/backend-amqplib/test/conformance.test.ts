import { describeBackend } from "@carrot/conformance";
import { Connection } from "@carrot/core";
import type { BackendOptions } from "@carrot/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmqplibBackend } from "../src/index.js";
import { AMQP_URL } from "./support/broker.js";
import { delayPairsNoted } from "./support/delay-pairs.js";
import { rawWriter } from "./support/raw-writer.js";

const broker = new URL(AMQP_URL);
const hostile = rawWriter(AMQP_URL);
afterAll(() => hostile.close());
const delayPairs = delayPairsNoted(AmqplibBackend);
const backend = (options: BackendOptions) => new delayPairs.Backend(options);
afterAll(() => delayPairs.remove(AMQP_URL));

describeBackend("amqplib", {
  connect: () => new Connection({ url: AMQP_URL, backend }),
  runner: { describe, it, expect, beforeAll, afterAll },
  // A child process that owns an exclusive queue and is killed: it runs from the TypeScript sources.
  processes: { url: AMQP_URL, execArgv: ["--import", "tsx", "--conditions=@carrot/source"] },
  hostile,
  faults: {
    target: { host: broker.hostname, port: Number(broker.port || 5672) },
    connectThrough: (port, overrides) => {
      const through = new URL(AMQP_URL);
      through.hostname = "127.0.0.1";
      through.port = String(port);
      return new Connection({
        url: through.href,
        backend,
        reconnect: { initialDelay: 50, maxDelay: 500 },
        // Two missed heartbeats tell a connection gone silent: a case silences some.
        heartbeat: 1,
        ...overrides,
      });
    },
  },
});
