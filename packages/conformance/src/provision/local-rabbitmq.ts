import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chown, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../free-port.js";
import type { Attempt } from "./broker-recipe.js";
import { findExecutable } from "./executables.js";
import { startLocalProcess } from "./local-process.js";
import { answersAmqp } from "./protocol-probes.js";
import { tempDir } from "./temp-dir.js";

/** RabbitMQ boots in seconds, but Erlang on a loaded 2-core machine can take a minute. */
const START_TIMEOUT_MS = 120_000;

/**
 * A RabbitMQ node of its own, as .ci/rabbitmq-cluster starts its nodes: its
 * own node name, AMQP and distribution ports on 127.0.0.1, config, an empty
 * plugin list (no management listener to collide with), and mnesia and log
 * folders, all in a temporary folder that is also its HOME (so its Erlang
 * cookie is its own). The system's rabbitmq-env.conf, which names the node
 * on 5672, is replaced by an empty one. As root it runs as user `rabbitmq`
 * (the package's scripts refuse other users' files), started with runuser.
 */
export async function startLocalRabbitMQ(): Promise<Attempt> {
  const server = serverScript();
  if (!server) return { skipped: "rabbitmq-server is not installed" };
  const owner = process.getuid?.() === 0 ? systemUser("rabbitmq") : undefined;
  if (process.getuid?.() === 0 && !owner)
    return { skipped: "running as root, and there is no user 'rabbitmq' to run RabbitMQ as" };

  const amqpPort = await freePort();
  let distPort = await freePort();
  while (distPort === amqpPort) distPort = await freePort();
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  const dir = await tempDir("rabbitmq");
  await mkdir(join(dir, "mnesia"));
  await mkdir(join(dir, "log"));
  await writeFile(join(dir, "enabled_plugins"), "[].\n");
  await writeFile(join(dir, "rabbitmq-env.conf"), "");
  await writeFile(
    join(dir, "rabbitmq.conf"),
    [
      `listeners.tcp.default = 127.0.0.1:${amqpPort}`,
      "log.console = false",
      "log.file.level = warning",
      "",
    ].join("\n"),
  );
  if (owner) await chownTree(dir, owner);

  const env = {
    HOME: dir,
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    RABBITMQ_NODENAME: `carrot-${randomBytes(4).toString("hex")}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_PID_FILE: join(dir, "pid"),
    ERL_EPMD_ADDRESS: "127.0.0.1",
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
  };
  // As root: runuser, then `env -i` so that the node sees exactly this environment.
  const [command, args] = owner
    ? [
        "runuser",
        [
          "-u",
          "rabbitmq",
          "--",
          "env",
          "-i",
          ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
          server,
        ],
      ]
    : [server, []];
  const node = await startLocalProcess({
    name: "rabbitmq-server",
    command,
    args,
    env: owner ? { PATH: env.PATH } : env,
    dir,
    ready: () => answersAmqp(url),
    startTimeoutMs: START_TIMEOUT_MS,
  });
  return {
    url,
    detail: `rabbitmq-server ${env.RABBITMQ_NODENAME} (pid ${node.pid}) in ${dir}`,
    stop: () => node.stop(),
  };
}

/**
 * The package's own rabbitmq-server script: Debian and Ubuntu keep it in
 * /usr/lib/rabbitmq/bin (the one on PATH is a wrapper that switches user and
 * resets the environment); elsewhere (Homebrew, the generic tarball) the one
 * on PATH is it.
 */
function serverScript(): string | undefined {
  const debian = "/usr/lib/rabbitmq/bin/rabbitmq-server";
  if (existsSync(debian)) return debian;
  return findExecutable("rabbitmq-server", ["/usr/sbin", "/usr/local/sbin", "/opt/homebrew/sbin"]);
}

interface SystemUser {
  readonly uid: number;
  readonly gid: number;
}

/** A user from /etc/passwd. */
function systemUser(name: string): SystemUser | undefined {
  const passwd = existsSync("/etc/passwd") ? readFileSync("/etc/passwd", "utf8") : "";
  const fields = passwd
    .split("\n")
    .map((line) => line.split(":"))
    .find((entry) => entry[0] === name);
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

async function chownTree(path: string, owner: SystemUser): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else await chown(child, owner.uid, owner.gid);
  }
}
