import type { QueueDeclaration } from "@carrot/core/backend";
import { AmqplibBackend } from "../../src/index.js";

/**
 * For the cluster tests only: every durable, shared queue is declared as a
 * quorum queue, the kind a cluster is for. The suite has no option for a
 * queue type; queues a quorum queue cannot be (transient, exclusive,
 * auto-delete, priority) and queues given a type stay as they are.
 */
export class QuorumWhereDurable extends AmqplibBackend {
  override declareQueue(queue: QueueDeclaration): Promise<void> {
    return super.declareQueue(asQuorum(queue));
  }
}

function asQuorum(queue: QueueDeclaration): QueueDeclaration {
  const args = queue.arguments;
  const classicOnly =
    !queue.durable ||
    queue.exclusive ||
    queue.autoDelete ||
    args.maxPriority !== undefined ||
    args.queueType !== undefined ||
    args["x-queue-type"] !== undefined;
  return classicOnly ? queue : { ...queue, arguments: { ...args, queueType: "quorum" } };
}
