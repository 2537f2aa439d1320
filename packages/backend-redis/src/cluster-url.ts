import {
  checkNumber,
  InvalidOptionsError,
  type NumberRange,
  parseBrokerUrl,
} from "@carrot/core/backend";
import type { ClusterOptions } from "ioredis";

/** A Redis Cluster to connect to: what `redis+cluster://` or `transportOptions.cluster` names. */
export interface ClusterTarget {
  /** The seed nodes: ioredis asks them for the slot table, then talks to every master. */
  nodes: { host: string; port: number }[];
  /** ioredis's Cluster options given in `transportOptions.cluster` (besides `nodes`). */
  options: ClusterOptions;
  /** The cluster as errors and events name it: scheme and seed nodes, no credentials. */
  display: string;
}

const CLUSTER_URL = /^\s*(rediss?)\+cluster:\/\/([^/?#]*)(.*)$/is;
const PORT_RANGE: NumberRange = { min: 1, max: 65_535 };
const EXPECTED = "redis+cluster://[user:password@]host:port[,host:port...]";

/** Whether `text` is a `redis+cluster://` or `rediss+cluster://` URL. */
export function isClusterUrl(text: string): boolean {
  return /^\s*rediss?\+cluster:/i.test(text);
}

/**
 * A cluster URL's seed nodes, and the rest of it (credentials, query) as a
 * `redis://` or `rediss://` URL naming the first node, which the one-Redis
 * parsing reads as it reads any. The host list is split here: a URL parser
 * reads `host:7000,host:7001` as one host with a port that is no number.
 * Errors show the scheme and the hosts, never the credentials.
 */
export function clusterSeeds(text: string): { url: URL; nodes: ClusterTarget["nodes"] } {
  const match = CLUSTER_URL.exec(text);
  if (!match) {
    throw new InvalidOptionsError(`a Redis Cluster URL is written ${EXPECTED}`);
  }
  const [, scheme = "redis", authority = "", rest = ""] = match;
  const at = authority.lastIndexOf("@");
  const credentials = at === -1 ? "" : authority.slice(0, at + 1);
  const hostList = authority.slice(at + 1);
  const shown = `${scheme.toLowerCase()}+cluster://${hostList}`;
  const nodes = hostList.split(",").map((address) => seed(address.trim(), shown));
  const first = hostList.split(",")[0]?.trim() ?? "";
  const url = parseBrokerUrl(`${scheme}://${credentials}${first}${rest}`, shown, EXPECTED);
  return { url, nodes };
}

function seed(address: string, shown: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d*))?$/.exec(address);
  if (!match) {
    throw new InvalidOptionsError(
      `'${address}' in ${shown} is not a host:port; expected ${EXPECTED}`,
    );
  }
  const host = (match[1] as string).replace(/^\[|\]$/g, "");
  const port = match[2] ? Number(match[2]) : 6379;
  checkNumber(`the port of '${address}' in ${shown}`, port, PORT_RANGE);
  return { host, port };
}
