import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";

/**
 * The HTTP agents of one SDK client, with the SDK's own settings (keep-alive,
 * 50 sockets), held here so that their idle sockets can be closed. When one
 * request finds its connection dead without a word (a NAT or a firewall
 * forgot it), the idle ones to the same endpoint are almost surely dead too;
 * left in the pool, each would cost the next request a whole request timeout
 * before it is dropped. New sockets are cheap.
 */
export class ClientAgents {
  readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50 });
  readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50 });

  /** Closes the sockets that no request is using. */
  closeIdle(): void {
    for (const agent of [this.httpAgent, this.httpsAgent]) {
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const socket of sockets ?? []) socket.destroy();
      }
    }
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
