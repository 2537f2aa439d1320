// Imported (`node --import`) by the suite's child processes on the cluster:
// their plain `new Connection(url)` then declares durable queues as quorum
// queues too, as the parent's connections do, instead of conflicting with them.
import { registerBackend } from "@carrot/core";
import { QuorumWhereDurable } from "./quorum-where-durable.js";

registerBackend("amqp", (options) => new QuorumWhereDurable(options));
