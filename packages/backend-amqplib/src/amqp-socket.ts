import type { Duplex } from "node:stream";
import type { ChannelModel } from "amqplib";

/** The socket under an amqplib connection (a net.Socket or tls.TLSSocket); amqplib's types do not show it. */
export function socketOf(model: ChannelModel): Duplex | undefined {
  return (model.connection as unknown as { stream?: Duplex }).stream;
}
