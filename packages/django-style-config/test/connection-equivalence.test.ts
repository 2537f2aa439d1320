import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Connection, Consumer, Publisher } from "@carrot/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  connectionFromSettings,
  DjangoAMQPConnection,
  DjangoBrokerConnection,
} from "../src/index.js";
import { settingsDir } from "./support/settings-dir.js";

// A Connection built from settings is the Connection built by hand: the same
// toString, and on memory:// the same broker, so messages cross between them.

const open: Connection[] = [];
const track = <C extends Connection>(connection: C): C => {
  open.push(connection);
  return connection;
};
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(open.splice(0).map((connection) => connection.close()));
});

/** Only what is given: no environment and no module searched for. */
const only = (settings: Record<string, unknown>) =>
  ({ settings, env: {}, settingsModule: false }) as const;

describe("the same connection as one built by hand", () => {
  it("from the seed's settings.py names", () => {
    const settings = only({
      AMQP_SERVER: "localhost",
      AMQP_PORT: 5672,
      AMQP_USER: "test",
      AMQP_PASSWORD: "secret",
      AMQP_VHOST: "/test",
    });
    const byHand = new Connection({
      hostname: "localhost",
      port: 5672,
      userid: "test",
      password: "secret",
      vhost: "/test",
    });
    const fromSettings = new DjangoAMQPConnection(undefined, settings);
    expect(String(fromSettings)).toBe(String(byHand));
    expect(String(fromSettings)).toBe("Connection(amqp://test@localhost:5672/%2Ftest)");
    expect(fromSettings).toBeInstanceOf(Connection);
  });

  it("from BROKER_URL, with the password hidden", async () => {
    const url = "amqp://feeds:s3cret@rabbit.example.com:5673/prod";
    const byHand = String(new Connection(url));
    expect(String(new DjangoAMQPConnection(undefined, only({ BROKER_URL: url })))).toBe(byHand);
    expect(String(await connectionFromSettings(only({ BROKER_URL: url })))).toBe(byHand);
    expect(byHand).not.toContain("s3cret");
  });

  it("with nothing set: carrot's defaults, as new Connection() has them", () => {
    expect(String(new DjangoAMQPConnection(undefined, only({})))).toBe(String(new Connection()));
  });

  it("DjangoBrokerConnection is carrot's other name for it", () => {
    expect(DjangoBrokerConnection).toBe(DjangoAMQPConnection);
  });

  it("new DjangoAMQPConnection() with no arguments reads process.env and the module it names", () => {
    const dir = settingsDir({
      "carrot.settings.json": JSON.stringify({
        CARROT_BACKEND: "memory",
        BROKER_HOST: "from-module",
      }),
    });
    vi.stubEnv("CARROT_SETTINGS_MODULE", join(dir, "carrot.settings.json"));
    vi.stubEnv("BROKER_HOST", "from-env");
    expect(String(new DjangoAMQPConnection())).toBe(String(new Connection("memory://from-env")));
  });

  it("arguments win over settings, as carrot's keyword arguments did", () => {
    const connection = new DjangoAMQPConnection(
      { hostname: "argument" },
      only({ BROKER_HOST: "setting", BROKER_USER: "u" }),
    );
    expect(String(connection)).toBe(String(new Connection({ hostname: "argument", userid: "u" })));
  });
});

describe("the same behaviour on memory://", () => {
  async function roundTrip(publishOn: Connection, consumeOn: Connection): Promise<unknown[]> {
    const names = { queue: `feed-${randomUUID()}`, exchange: "feed", routingKey: "importer" };
    const consumer = new Consumer<{ import_feed: string }>(consumeOn, names);
    await consumer.declare();
    const received: unknown[] = [];
    consumer.registerCallback(async (data, message) => {
      received.push(data.import_feed);
      await message.ack();
    });
    const publisher = new Publisher(publishOn, { exchange: "feed", routingKey: "importer" });
    await publisher.send({ import_feed: "http://cnn.com/rss/edition.rss" });
    await publisher.close();
    await consumer.wait({ limit: 1 });
    await consumer.close();
    return received;
  }

  it("a settings connection and a hand-built one reach the same broker, both ways", async () => {
    const broker = `settings-${randomUUID()}`;
    const fromSettings = track(
      new DjangoAMQPConnection(undefined, only({ CARROT_BACKEND: "memory", BROKER_HOST: broker })),
    );
    const byHand = track(new Connection(`memory://${broker}`));
    expect(String(fromSettings)).toBe(String(byHand));
    expect(await roundTrip(fromSettings, byHand)).toEqual(["http://cnn.com/rss/edition.rss"]);
    expect(await roundTrip(byHand, fromSettings)).toEqual(["http://cnn.com/rss/edition.rss"]);
  });

  it("connectionFromSettings() from a settings file, against a hand-built one", async () => {
    const broker = `file-${randomUUID()}`;
    const dir = settingsDir({
      "carrot.settings.mjs": `export const BROKER_URL = "memory://${broker}";\n`,
    });
    const fromSettings = track(await connectionFromSettings({ cwd: dir, env: {} }));
    const byHand = track(new Connection(`memory://${broker}`));
    expect(String(fromSettings)).toBe(String(byHand));
    expect(await roundTrip(fromSettings, byHand)).toEqual(["http://cnn.com/rss/edition.rss"]);
    expect(await roundTrip(fromSettings, fromSettings)).toEqual(["http://cnn.com/rss/edition.rss"]);
  });

  it("a different BROKER_HOST is a different broker, as a different memory:// name is", async () => {
    const fromSettings = track(
      new DjangoAMQPConnection(
        undefined,
        only({ CARROT_BACKEND: "memory", BROKER_HOST: `a-${randomUUID()}` }),
      ),
    );
    const other = track(new Connection(`memory://b-${randomUUID()}`));
    const queue = `q-${randomUUID()}`;
    for (const connection of [fromSettings, other]) {
      await connection.declareExchange({ name: "x" });
      await connection.declareQueue({ name: queue });
      await connection.bindQueue({ queue, exchange: "x", routingKey: "k" });
    }
    const publisher = new Publisher(fromSettings, { exchange: "x", routingKey: "k" });
    await publisher.send({ n: 1 });
    await publisher.close();
    expect(await other.purgeQueue(queue)).toBe(0);
    expect(await fromSettings.purgeQueue(queue)).toBe(1);
  });
});
