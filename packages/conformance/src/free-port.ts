import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that is free now, for a broker a test starts
 * itself (an emulator, a TLS or Sentinel server). Another process could take
 * it before the broker binds it; the broker's start then fails, loudly.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}
