// The part of rascal's API the bench uses (rascal ships no types; @types/rascal is for version 10).
declare module "rascal" {
  import type { EventEmitter } from "node:events";

  interface BrokerAsPromised extends EventEmitter {
    publish(name: string, message: unknown, overrides?: object): Promise<EventEmitter>;
    subscribe(name: string, overrides?: object): Promise<EventEmitter>;
    shutdown(): Promise<void>;
  }

  const rascal: {
    BrokerAsPromised: { create(config: object): Promise<BrokerAsPromised> };
    withDefaultConfig(config: object): object;
  };
  export default rascal;
}
