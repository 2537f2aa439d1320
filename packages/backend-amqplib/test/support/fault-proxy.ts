import { FaultProxy as SharedFaultProxy } from "@carrot/conformance";

/**
 * The conformance suite's fault-injecting TCP proxy, with this package's
 * conveniences: an AMQP URL through it, and switches that default to on.
 */
export class FaultProxy {
  private constructor(readonly shared: SharedFaultProxy) {}

  static async start(host: string, port: number): Promise<FaultProxy> {
    return new FaultProxy(await SharedFaultProxy.start({ host, port }));
  }

  get port(): number {
    return this.shared.port;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}`;
  }

  /** Connections accepted since start, refused ones included. */
  get accepted(): number {
    return this.shared.connectionsSeen;
  }

  cutAll(): void {
    this.shared.cut();
  }

  refuse(on = true): void {
    this.shared.refuse(on);
  }

  stall(on = true): void {
    this.shared.stall(on);
  }

  close(): Promise<void> {
    return this.shared.close();
  }
}
