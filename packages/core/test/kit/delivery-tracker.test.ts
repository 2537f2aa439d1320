import { describe, expect, it } from "vitest";
import { ConnectionLostError, MessageStateError } from "../../src/errors.js";
import { DeliveryTracker, PrefetchWindow } from "../../src/kit/delivery-tracker.js";

/** A tracker of message names whose give-back hook records what it is given. */
function tracker() {
  const givenBack: string[][] = [];
  const deliveries = new DeliveryTracker<string>({
    name: "test",
    describe: (item) => `message '${item}'`,
    giveBack: (items) => {
      givenBack.push(items);
    },
  });
  return { deliveries, givenBack };
}

describe("DeliveryTracker", () => {
  it("settles a held delivery once: the backend's settle runs, a second settle fails with MessageStateError", () => {
    const { deliveries } = tracker();
    const held = deliveries.hold("m1");
    expect(deliveries.settle(held, (item) => `acked ${item}`)).toBe("acked m1");
    expect(deliveries.size).toBe(0);
    expect(() => deliveries.settle(held, () => "again")).toThrow(
      new MessageStateError(
        "message 'm1' from the test backend is not awaiting a settle (settled already, or consumed with noAck)",
      ),
    );
  });

  it("refuses to settle a delivery it never held (consumed with noAck)", () => {
    const { deliveries } = tracker();
    expect(() => deliveries.settle(undefined, () => undefined)).toThrow(MessageStateError);
  });

  it("counts a subscription's unsettled deliveries against its prefetch and frees a place per settle", () => {
    const { deliveries } = tracker();
    const freed: number[] = [];
    const window = new PrefetchWindow(2, () => freed.push(window.unsettled));
    const [a, b] = [deliveries.hold("a", window), deliveries.hold("b", window)];
    expect([window.unsettled, window.room]).toEqual([2, 0]);
    deliveries.settle(a, () => undefined);
    expect([window.unsettled, window.room, freed]).toEqual([1, 1, [1]]);
    deliveries.lose(b);
    expect([window.unsettled, window.room, freed]).toEqual([0, 2, [1, 0]]);
  });

  it("has unlimited room with prefetch 0, and none once cancelled", () => {
    const window = new PrefetchWindow(0);
    expect(window.room).toBe(Number.POSITIVE_INFINITY);
    window.cancel();
    expect([window.room, window.cancelled]).toEqual([0, true]);
  });

  it("wakes the receivers waiting for room at the next settle, and at cancel", async () => {
    const { deliveries } = tracker();
    const window = new PrefetchWindow(1);
    const held = deliveries.hold("a", window);
    const woken: string[] = [];
    const waits = [
      window.roomFreed().then(() => woken.push("first")),
      window.roomFreed().then(() => woken.push("second")),
    ];
    deliveries.settle(held, () => undefined);
    await Promise.all(waits);
    expect(woken).toEqual(["first", "second"]);
    const cancelled = window.roomFreed().then(() => woken.push("cancelled"));
    window.cancel();
    await cancelled;
    expect(woken).toEqual(["first", "second", "cancelled"]);
  });

  it("a lost delivery cannot be settled: ConnectionLostError, and the backend's settle does not run", () => {
    const { deliveries } = tracker();
    const held = deliveries.hold("m1");
    deliveries.lose(held);
    let ran = false;
    expect(() =>
      deliveries.settle(held, () => {
        ran = true;
      }),
    ).toThrow(ConnectionLostError);
    expect(ran).toBe(false);
  });

  it("after connectionLost, nothing held before can be settled; what is held after can", () => {
    const { deliveries, givenBack } = tracker();
    const window = new PrefetchWindow(5);
    const before = [deliveries.hold("a", window), deliveries.hold("b", window)];
    deliveries.connectionLost();
    expect([deliveries.size, window.unsettled]).toEqual([0, 0]);
    for (const held of before) {
      expect(() => deliveries.settle(held, () => undefined)).toThrow(
        new ConnectionLostError(
          `the test connection that delivered message '${held.item}' lost it (the connection dropped, or its lease ran out and another consumer took it): the broker will deliver it again`,
        ),
      );
    }
    const after = deliveries.hold("c", window);
    expect(deliveries.settle(after, (item) => item)).toBe("c");
    expect(givenBack).toEqual([]); // the broker takes lost deliveries back by itself
  });

  it("close gives the unsettled deliveries back in delivery order, once; settles then fail with ConnectionLostError", async () => {
    const { deliveries, givenBack } = tracker();
    const held = ["m1", "m2", "m3", "m4"].map((item) => deliveries.hold(item));
    deliveries.settle(held[1], () => undefined);
    await deliveries.close();
    await deliveries.close();
    expect(givenBack).toEqual([["m1", "m3", "m4"]]);
    for (const settled of [held[0], held[1]]) {
      expect(() => deliveries.settle(settled, () => undefined)).toThrow(
        new ConnectionLostError(
          `the test connection that delivered message '${settled!.item}' is closed: the message went back to its queue and will be delivered again`,
        ),
      );
    }
  });

  it("close with nothing held does not call the hook", async () => {
    const { deliveries, givenBack } = tracker();
    deliveries.settle(deliveries.hold("m1"), () => undefined);
    await deliveries.close();
    expect(givenBack).toEqual([]);
  });

  it("close waits for an asynchronous give-back", async () => {
    let returned = false;
    const deliveries = new DeliveryTracker<string>({
      name: "test",
      giveBack: async () => {
        await Promise.resolve();
        returned = true;
      },
    });
    deliveries.hold("m1");
    await deliveries.close();
    expect(returned).toBe(true);
  });
});
