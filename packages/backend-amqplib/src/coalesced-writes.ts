import type { Duplex } from "node:stream";
import type { ChannelModel } from "amqplib";
import { socketOf } from "./amqp-socket.js";

/**
 * amqplib writes every frame (each publish, each ack) with a socket write of
 * its own, and on a loopback connection each is a system call: most of the
 * CPU a publish costs. Corking the socket at the first write of a tick and
 * uncorking it when the tick's synchronous work is done sends the tick's
 * frames as one writev. Nothing waits longer than the end of the current
 * tick, so latency does not change; backpressure (write() returning false,
 * 'drain') works the same on a corked socket.
 */
export function coalesceWrites(model: ChannelModel): void {
  const socket = socketOf(model);
  if (!socket || typeof socket.cork !== "function") return;
  const write = socket.write;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };
  socket.write = function (this: Duplex, ...args: Parameters<Duplex["write"]>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    return write.apply(this, args);
  } as Duplex["write"];
}
