/**
 * The broker's CPU time beside the client's: the bench's brokers run on the
 * same two cores, and a round can be slow because the broker worked harder
 * in it (RabbitMQ delivering a backlog, see the README), not because the
 * client did. Read from Linux's /proc: the process that listens on the
 * broker's port, its user + system time. Elsewhere, or when /proc does not
 * show that process (another user's, without root), there is no figure.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Linux's unit for CPU times in /proc (USER_HZ): 100 per second on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** /proc/net/tcp's state of a listening socket. */
const LISTEN = "0A";

/**
 * A clock of the CPU time (µs, in steps of 10 ms) of the process listening
 * on `port` of this machine, or undefined if /proc does not show one.
 */
export function brokerCpuClock(port: number): (() => number) | undefined {
  if (process.platform !== "linux") return undefined;
  const pid = listeningProcess(port);
  // A broker in this process would count the client's CPU twice.
  if (pid === undefined || pid === process.pid) return undefined;
  return () => {
    // The fields after the command's closing parenthesis; utime and stime are its 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
  };
}

function listeningProcess(port: number): number | undefined {
  const inodes = listeningSockets(port);
  if (inodes.size === 0) return undefined;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    for (const fd of readable(() => readdirSync(`/proc/${pid}/fd`)) ?? []) {
      const link = readable(() => readlinkSync(`/proc/${pid}/fd/${fd}`));
      const inode = link && /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode && inodes.has(inode)) return Number(pid);
    }
  }
  return undefined;
}

/** The inodes of the sockets listening on `port`, IPv4 and IPv6. */
function listeningSockets(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = readable(() => readFileSync(table, "utf8")) ?? "";
    for (const line of text.split("\n").slice(1)) {
      // sl, local_address (hex address:hex port), rem_address, st, queues, tr, retrnsmt, uid, timeout, inode
      const fields = line.trim().split(/\s+/);
      const localPort = Number.parseInt(fields[1]?.split(":")[1] ?? "", 16);
      if (fields[3] === LISTEN && localPort === port && fields[9]) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** What `read` returns, or undefined where /proc refuses (a process gone, or another user's). */
function readable<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
