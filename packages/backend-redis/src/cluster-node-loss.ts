import type { Cluster, Redis } from "ioredis";

/**
 * Makes a Cluster client report a lost node connection as one Redis reports
 * a lost connection: `close`, then `reconnecting`, then `ready`. On a client
 * that must not resend (`resend` false: publishes, blocking reads), the
 * commands written to the lost connection fail, as on one Redis.
 *
 * Left alone, ioredis rebuilds a master's dropped connection silently: the
 * node leaves its pool and the next command finds it again through the slot
 * table. The Cluster closes only once every node connection has ended,
 * which the replica connections it made but never used do not. So after a
 * network cut nothing says the connection was lost: no `disconnect`, no
 * blocking read failed, nothing recovered. And the commands in flight on
 * the lost connection are sent again (`retryDelayOnFailover`): a publish
 * that had run is stored twice, a blocking read takes entries again while
 * those of its lost reply stay unseen.
 *
 * Here the connection to a master closing, after it was up, while the
 * cluster is ready, makes the whole client reconnect (ioredis's own
 * `disconnect(true)`, which a failed ready check uses too). It does so once
 * the I/O phase in which the socket closed is over, so that ioredis has
 * seen every socket a cut closed while still ready: where resending is on
 * (acks, other settles), it sends their commands again after the
 * reconnect, as one Redis does; afterwards it would fail them.
 *
 * Not losses: ioredis's own removals (it takes a node out of its pool before
 * closing it: a slot refresh that finds the node serves no slot, a redirect
 * back to a stale connection), a client closing (no longer ready), and a
 * node that never came up (refused during a failover: nothing was written
 * to it, and the slot table leads to its replacement).
 */
export function reconnectOnNodeLoss(cluster: Cluster, { resend }: { resend: boolean }): void {
  cluster.on("+node", (node: Redis) => {
    let up = false;
    node.on("ready", () => {
      up = true;
      // Ahead of ioredis's own handler, which fails them as "Connection is closed.", the error it resends.
      if (!resend) node.stream.prependOnceListener("close", () => failWritten(node));
    });
    node.on("close", () => {
      const wasUp = up;
      up = false;
      if (!wasUp || cluster.status !== "ready") return;
      if (!cluster.nodes("master").includes(node)) return;
      // After the I/O phase in which this socket closed, not within it.
      setImmediate(() => {
        if (cluster.status === "ready") cluster.disconnect(true);
      });
    });
  });
}

/** What a command written to a lost node connection fails with: it may have run. */
export class NodeConnectionLostError extends Error {
  override name = "NodeConnectionLostError";
}

/** Commands written to `node` whose replies will not come: they may have run. */
function failWritten(node: Redis): void {
  const { host, port } = node.options;
  const error = new NodeConnectionLostError(
    `the connection to cluster node ${host}:${port} closed before the reply; the command may have run`,
  );
  for (let item = node.commandQueue.shift(); item; item = node.commandQueue.shift()) {
    item.command.reject(error);
  }
}
