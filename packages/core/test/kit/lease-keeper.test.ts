import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  Lease,
  LeaseKeeper,
  type LeaseKeeperOptions,
  type LeaseRenewal,
} from "../../src/kit/lease-keeper.js";

/** A renew hook (not a broker): records each call, and answers with the ids it is told are lost. */
function fakeBroker() {
  const calls: { at: number; group: string; batch: LeaseRenewal[] }[] = [];
  const lost = new Set<string>();
  let failure: Error | undefined;
  return {
    calls,
    lost,
    failWith(error: Error | undefined) {
      failure = error;
    },
    renew: async (group: string, batch: LeaseRenewal[]) => {
      calls.push({ at: Date.now(), group, batch });
      if (failure) throw failure;
      return batch.map((r) => r.id).filter((id) => lost.has(id));
    },
  };
}

class TrackedLease extends Lease<string> {
  lostCalls = 0;
  override lost(): void {
    this.lostCalls++;
  }
}

describe("LeaseKeeper", () => {
  let broker: ReturnType<typeof fakeBroker>;
  let errors: unknown[];
  const keeper = (options: Partial<LeaseKeeperOptions<string>> = {}) =>
    new LeaseKeeper<string>({
      leaseMs: 3000,
      renew: broker.renew,
      onError: (error) => errors.push(error),
      ...options,
    });

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    broker = fakeBroker();
    errors = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("renews a held lease every third of the lease time from receipt until it is released, then stops its timer", async () => {
    const leases = keeper();
    const lease = new Lease("q1", "m1");
    leases.hold(lease);
    await vi.advanceTimersByTimeAsync(3000);
    expect(broker.calls).toEqual([
      { at: 1000, group: "q1", batch: [{ id: "m1", seconds: 3 }] },
      { at: 2000, group: "q1", batch: [{ id: "m1", seconds: 3 }] },
      { at: 3000, group: "q1", batch: [{ id: "m1", seconds: 3 }] },
    ]);
    expect(lease.until).toBe(6000);
    leases.release(lease);
    expect(leases.holds(lease)).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(broker.calls).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves a lease received within the last half round for the next round", async () => {
    const leases = keeper();
    leases.hold(new Lease("q1", "early"));
    await vi.advanceTimersByTimeAsync(900);
    leases.hold(new Lease("q1", "late"));
    await vi.advanceTimersByTimeAsync(1100);
    expect(broker.calls.map(({ at, batch }) => [at, batch.map((r) => r.id)])).toEqual([
      [1000, ["early"]],
      [2000, ["early", "late"]],
    ]);
  });

  it("renews each group in its own calls, at most batchSize leases per call", async () => {
    const leases = keeper({ batchSize: 2 });
    for (const id of ["a", "b", "c"]) leases.hold(new Lease("q1", id));
    leases.hold(new Lease("q2", "d"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(broker.calls.map(({ group, batch }) => [group, batch.map((r) => r.id)])).toEqual([
      ["q1", ["a", "b"]],
      ["q1", ["c"]],
      ["q2", ["d"]],
    ]);
  });

  it("lets go of a lease the broker says another consumer took, and tells the lease", async () => {
    const leases = keeper();
    const taken = new TrackedLease("q1", "taken");
    const kept = new TrackedLease("q1", "kept");
    leases.hold(taken);
    leases.hold(kept);
    broker.lost.add("taken");
    await vi.advanceTimersByTimeAsync(1000);
    expect([taken.lostCalls, kept.lostCalls]).toEqual([1, 0]);
    expect([leases.holds(taken), leases.holds(kept)]).toEqual([false, true]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(broker.calls[1]!.batch.map((r) => r.id)).toEqual(["kept"]);
  });

  it("extend renews at once for at least the seconds asked; rounds leave it until it is due again", async () => {
    const leases = keeper();
    const lease = new Lease("q1", "m1");
    leases.hold(lease);
    await vi.advanceTimersByTimeAsync(500);
    await expect(leases.extend(lease, 10)).resolves.toBe(true);
    expect(broker.calls).toEqual([{ at: 500, group: "q1", batch: [{ id: "m1", seconds: 10 }] }]);
    // Due again once no more than the lease time minus half a round is left: at 10.5 s - 2.5 s.
    await vi.advanceTimersByTimeAsync(7000);
    expect(broker.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(broker.calls.slice(1)).toEqual([
      { at: 8000, group: "q1", batch: [{ id: "m1", seconds: 3 }] },
    ]);
    // Asking for less than is left keeps what is left.
    await expect(leases.extend(lease, 1)).resolves.toBe(true);
    expect(broker.calls[2]!.batch).toEqual([{ id: "m1", seconds: 3 }]);
  });

  it("with a fixed lease, extend renews for the lease time and the rounds carry on", async () => {
    const leases = keeper({ fixedLease: true });
    const lease = new Lease("q1", "m1");
    leases.hold(lease);
    await expect(leases.extend(lease, 60)).resolves.toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(broker.calls.map(({ at }) => at)).toEqual([0, 1000]);
    expect(lease.until).toBe(4000);
  });

  it("extend says false for a lease released or lost, and asks nothing of the broker for a released one", async () => {
    const leases = keeper();
    const released = new Lease("q1", "released");
    leases.hold(released);
    leases.release(released);
    await expect(leases.extend(released, 5)).resolves.toBe(false);
    expect(broker.calls).toEqual([]);
    const taken = new TrackedLease("q1", "taken");
    leases.hold(taken);
    broker.lost.add("taken");
    await expect(leases.extend(taken, 5)).resolves.toBe(false);
    expect([taken.lostCalls, leases.holds(taken)]).toEqual([1, false]);
  });

  it("stops renewing at the maximum hold from receipt, asking no more than is left of it", async () => {
    const leases = keeper({ maxHoldMs: 4500 });
    const lease = new Lease("q1", "m1");
    leases.hold(lease);
    await vi.advanceTimersByTimeAsync(5000);
    expect(broker.calls.map(({ at, batch }) => [at, batch[0]!.seconds])).toEqual([
      [1000, 3],
      [2000, 2],
      [3000, 1],
    ]);
    expect(leases.holds(lease)).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports a failed renewal of held leases and tries it again next round", async () => {
    const leases = keeper();
    leases.hold(new Lease("q1", "m1"));
    const down = new Error("broker down");
    broker.failWith(down);
    await vi.advanceTimersByTimeAsync(2000);
    expect(broker.calls).toHaveLength(2);
    expect(errors).toEqual([down, down]);
  });

  it("does not report a failed renewal whose leases were all released meanwhile", async () => {
    let fail!: () => void;
    const leases = keeper({
      renew: () =>
        new Promise((_resolve, reject) => {
          fail = () => reject(new Error("broker down"));
        }),
    });
    const lease = new Lease("q1", "m1");
    leases.hold(lease);
    await vi.advanceTimersByTimeAsync(1000);
    leases.release(lease);
    fail();
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toEqual([]);
  });

  it("keeps renewing a group no longer consumed while it holds leases, and drops it once they are settled", async () => {
    const leases = keeper();
    // The subscription of q1 was cancelled: its callback still holds m1. No call says so.
    const held = new Lease("q1", "m1");
    leases.hold(held);
    await vi.advanceTimersByTimeAsync(2000);
    expect(broker.calls.map(({ group }) => group)).toEqual(["q1", "q1"]);
    leases.release(held);
    await vi.advanceTimersByTimeAsync(2000);
    expect(broker.calls).toHaveLength(2);
    expect(leases.heldIds("q1")).toEqual(new Set());
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clear stops every renewal and forgets every lease", async () => {
    const leases = keeper();
    const [a, d] = [new Lease("q1", "a"), new Lease("q2", "d")];
    leases.hold(a);
    leases.hold(d);
    expect(leases.heldIds("q1")).toEqual(new Set(["a"]));
    leases.clear();
    expect(leases.holds(a)).toBe(false);
    expect(leases.heldIds("q2")).toEqual(new Set());
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3000);
    expect(broker.calls).toEqual([]);
  });
});
