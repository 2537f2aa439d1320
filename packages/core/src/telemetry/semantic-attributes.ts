/**
 * The attribute names carrot records, from the OpenTelemetry messaging
 * semantic conventions, and carrot's own (`carrot.*`) where they have none.
 */

/** `rabbitmq`, `redis`, `aws_sqs`, `memory`... (see messaging-system.ts). */
export const SYSTEM = "messaging.system";
/** `send`, `receive`, `process` or `settle`: the kind of operation. */
export const OPERATION_TYPE = "messaging.operation.type";
/** carrot's name for the operation: `send`, `receive`, `process`, `ack`, `reject`, `requeue`, `retry`, `dead_letter`. */
export const OPERATION_NAME = "messaging.operation.name";
/**
 * Sending: the exchange, or for the default exchange (which routes by
 * queue name) the routing key. Consuming and settling: the queue.
 */
export const DESTINATION = "messaging.destination.name";
/** true on a destination made for one connection's replies, whose generated name spans and metrics do not carry. */
export const DESTINATION_TEMPORARY = "messaging.destination.temporary";
/** The application's `messageId`, when the message has one. */
export const MESSAGE_ID = "messaging.message.id";
/** The `correlationId`, when the message has one. */
export const CONVERSATION_ID = "messaging.message.conversation_id";
/** The body's size in bytes, as sent (compressed, if it was). */
export const BODY_SIZE = "messaging.message.body.size";
/** What an operation failed with: the error's class name. */
export const ERROR_TYPE = "error.type";
/** The routing key on RabbitMQ, the conventions' name for it. */
export const RABBITMQ_ROUTING_KEY = "messaging.rabbitmq.destination.routing_key";
/** The routing key on the other backends, whose routing carrot does as RabbitMQ would. */
export const CARROT_ROUTING_KEY = "carrot.destination.routing_key";
/** What became of a settled message: see {@link SettleOutcome}. */
export const OUTCOME = "carrot.outcome";

/**
 * How a message was settled, as `carrot.messages.settled` counts it:
 * `dead_lettered` is the failure policy's exhausted path (dead-letter
 * exchange, failed queue, or dropped), `retried` a copy sent back for
 * another attempt, `requeued` also when the policy could not send its
 * copy and put the message back as it was.
 */
export type SettleOutcome = "acked" | "rejected" | "requeued" | "retried" | "dead_lettered";

/** A settle operation's `messaging.operation.name`. */
export type SettleOperation = "ack" | "reject" | "requeue" | "retry" | "dead_letter";
