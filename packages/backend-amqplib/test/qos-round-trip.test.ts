import type { Channel, ChannelModel } from "amqplib";
import { afterEach, describe, expect, it } from "vitest";
import { socketOf } from "../src/amqp-socket.js";
import { qosRoundTrip } from "../src/qos-round-trip.js";
import { rawConnection, unique } from "./support/broker.js";

/**
 * How a round trip on `via` (a view of `channel`) ended, after which of
 * `channel`'s 'error' and 'close' events.
 */
function roundTrip(channel: Channel, via: Channel): { events: string[]; ended: Promise<unknown> } {
  const events: string[] = [];
  channel.on("error", () => events.push("error"));
  channel.on("close", () => events.push("close"));
  const ended = new Promise<unknown>((resolve) =>
    qosRoundTrip(
      via,
      100,
      () => {
        events.push("ok");
        resolve(undefined);
      },
      (error) => {
        events.push("fail");
        resolve(error);
      },
    ),
  );
  expect(events).toEqual([]); // neither callback runs during the call
  return { events, ended };
}

describe.each([
  ["amqplib's callback-style _rpc", (channel: Channel) => channel],
  [
    // The same channel, as an amqplib whose channels have no _rpc would show it.
    "channel.prefetch(), on an amqplib without _rpc",
    (channel: Channel): Channel =>
      Object.create(channel, {
        _rpc: { value: undefined },
        prefetch: { value: (count: number) => channel.prefetch(count) },
      }),
  ],
])("the per-turn basic.qos round trip through %s", (_path, view) => {
  const connections: ChannelModel[] = [];
  afterEach(async () => {
    for (const connection of connections.splice(0)) await connection.close().catch(() => {});
  });

  async function channel(): Promise<{ connection: ChannelModel; channel: Channel }> {
    const connection = await rawConnection();
    connections.push(connection);
    return { connection, channel: await connection.createChannel() };
  }

  it("calls ok once the broker's qos-ok is back", async () => {
    const { channel: open } = await channel();
    const { events, ended } = roundTrip(open, view(open));
    await ended;
    expect(events).toEqual(["ok"]);
  });

  it("on a closed channel calls fail with amqplib's error", async () => {
    const { channel: closed } = await channel();
    await closed.close();
    const { events, ended } = roundTrip(closed, view(closed));
    const error = await ended;
    expect(events).toEqual(["fail"]);
    expect(error).toMatchObject({ name: "IllegalOperationError", message: "Channel closed" });
  });

  it("when the broker closes the channel mid-round-trip, calls fail once the channel is closed", async () => {
    const { channel: failing } = await channel();
    const exchange = unique("missing");
    failing.publish(exchange, "", Buffer.from("x")); // the broker closes the channel: no such exchange
    const { events, ended } = roundTrip(failing, view(failing));
    const error = await ended;
    expect(events).toEqual(["error", "close", "fail"]);
    expect(error).toMatchObject({
      message: `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${exchange}' in vhost '/'"`,
      code: 404,
    });
  });

  it("when the connection is lost mid-round-trip, calls fail once the channel is closed", async () => {
    const { connection, channel: cut } = await channel();
    connection.on("error", () => {});
    const { events, ended } = roundTrip(cut, view(cut));
    socketOf(connection)!.destroy(new Error("cut"));
    const error = await ended;
    expect(events).toEqual(["close", "fail"]);
    expect(error).toMatchObject({ message: "Channel ended, no reply will be forthcoming" });
  });
});
