import type {
  BindingDeclaration,
  CarrotError,
  ExchangeDeclaration,
  QueueDeclaration,
} from "@carrot/core/backend";
import type { Channel, ChannelModel } from "amqplib";
import { channelError } from "./amqp-errors.js";
import { boundedClose } from "./bounded-close.js";
import { toTable } from "./header-table.js";
import { queueOptions } from "./queue-arguments.js";
import type { TopologyRegistry } from "./topology-registry.js";

export function declareExchange(channel: Channel, exchange: ExchangeDeclaration): Promise<unknown> {
  return channel.assertExchange(exchange.name, exchange.type, {
    durable: exchange.durable,
    autoDelete: exchange.autoDelete,
    arguments: exchange.arguments,
  });
}

export function declareQueue(channel: Channel, queue: QueueDeclaration): Promise<unknown> {
  return channel.assertQueue(queue.name, queueOptions(queue));
}

export function bindQueue(channel: Channel, binding: BindingDeclaration): Promise<unknown> {
  return channel.bindQueue(
    binding.queue,
    binding.exchange,
    binding.routingKey,
    toTable(binding.arguments ?? {}),
  );
}

/**
 * Declares again, on a new connection, everything the registry holds:
 * exchanges, then queues, then bindings. One item failing (a conflicting
 * redeclare by someone else, an exclusive queue the broker still holds for
 * the dead connection) is reported and the rest goes on; a consumer whose
 * queue could not be declared retries on its own. Throws only when the
 * connection itself fails.
 */
export async function recoverTopology(
  model: ChannelModel,
  registry: TopologyRegistry,
  report: (error: CarrotError) => void,
): Promise<void> {
  const steps: [string, (channel: Channel) => Promise<unknown>][] = [
    ...[...registry.exchanges.values()].map((e): [string, (c: Channel) => Promise<unknown>] => [
      `redeclaring exchange '${e.name}'`,
      (c) => declareExchange(c, e),
    ]),
    ...[...registry.queues.values()].map((q): [string, (c: Channel) => Promise<unknown>] => [
      `redeclaring queue '${q.name}'`,
      (c) => declareQueue(c, q),
    ]),
    ...[...registry.bindings].map((b): [string, (c: Channel) => Promise<unknown>] => [
      `rebinding queue '${b.queue}' to exchange '${b.exchange}'`,
      (c) => bindQueue(c, b),
    ]),
  ];
  if (steps.length === 0) return;
  let channel = await openQuiet(model);
  for (const [what, step] of steps) {
    try {
      await step(channel);
    } catch (error) {
      if (typeof (error as { code?: unknown }).code !== "number") throw error;
      report(channelError(error, what));
      channel = await openQuiet(model);
    }
  }
  await boundedClose(channel);
}

async function openQuiet(model: ChannelModel): Promise<Channel> {
  const channel = await model.createChannel();
  channel.on("error", () => {});
  return channel;
}
