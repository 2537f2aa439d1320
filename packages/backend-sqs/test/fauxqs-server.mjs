// Runs fauxqs for the tests and benchmarks, on the Node 22 binary (fauxqs
// needs node:sqlite). Two things its CLI cannot be told:
// - it listens on 0.0.0.0 whatever FAUXQS_HOST says (that only names the host
//   in queue URLs): the emulator would be reachable from the network, so its
//   listen is confined to 127.0.0.1 here;
// - its CLI forces request logging on, a cost on every request.
// FAUXQS_DATA_DIR keeps the state in SQLite, for tests that restart it.
import net from "node:net";
import { startFauxqs } from "fauxqs";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (options, ...rest) {
  if (options && typeof options === "object" && options.host === "0.0.0.0")
    options = { ...options, host: "127.0.0.1" };
  return listen.call(this, options, ...rest);
};

const dataDir = process.env.FAUXQS_DATA_DIR;
const server = await startFauxqs({ logger: false, ...(dataDir ? { dataDir } : {}) });
process.stdout.write(`fauxqs listening on ${server.address}\n`);
