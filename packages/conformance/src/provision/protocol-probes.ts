import { connect } from "node:net";

/**
 * Whether what listens at a URL speaks the broker's protocol: an open port
 * alone could be anything (another broker, a proxy, a leftover server). Each
 * probe returns undefined when the broker answered as it should, else why not.
 */

/** How long a probe waits for an answer: generous, for a loaded 2-core machine. */
const PROBE_TIMEOUT_MS = 3_000;

/** The AMQP 0-9-1 protocol header; a broker answers with Connection.Start (class 10, method 10). */
const AMQP_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]);

/** An AMQP 0-9-1 broker (RabbitMQ) at `url`'s host and port. */
export async function answersAmqp(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const reply = await exchange(
    hostname,
    Number(port || 5672),
    AMQP_HEADER,
    (data) => data.length >= 11,
  );
  if (typeof reply === "string") return reply;
  const connectionStart =
    reply[0] === 1 && reply.readUInt16BE(7) === 10 && reply.readUInt16BE(9) === 10;
  return connectionStart ? undefined : "something listens there, but it does not speak AMQP 0-9-1";
}

/** A Redis at `url`'s host and port that answers PING without a password. */
export async function answersRedis(url: string): Promise<string | undefined> {
  const { hostname, port } = new URL(url);
  const reply = await exchange(hostname, Number(port || 6379), Buffer.from("PING\r\n"), (data) =>
    data.includes("\r\n"),
  );
  if (typeof reply === "string") return reply;
  const line = reply.toString("latin1").split("\r\n")[0] ?? "";
  if (line === "+PONG") return undefined;
  if (line.startsWith("-NOAUTH")) return "a Redis answers there, but it wants a password";
  return "something listens there, but it does not answer Redis's PING";
}

/**
 * An SQS API at `endpoint` (fauxqs, LocalStack, ElasticMQ): ListQueues in the
 * JSON protocol the AWS SDK speaks answers with a JSON object. The request is
 * not signed with real credentials; emulators accept that.
 */
export async function answersSqs(endpoint: string): Promise<string | undefined> {
  try {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AmazonSQS.ListQueues",
        authorization:
          "AWS4-HMAC-SHA256 Credential=carrot/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: "{}",
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok && typeof body === "object" && body !== null) return undefined;
    return `something answers there, but not as SQS (HTTP ${response.status} to ListQueues)`;
  } catch (error) {
    return `nothing answers there (${describe(error)})`;
  }
}

/** Sends `request` and collects the reply until `complete`; the reason as a string when that fails. */
function exchange(
  host: string,
  port: number,
  request: Buffer,
  complete: (data: Buffer) => boolean,
): Promise<Buffer | string> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const socket = connect({ host, port });
    const finish = (result: Buffer | string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(`no answer within ${PROBE_TIMEOUT_MS} ms`));
    socket.once("connect", () => socket.write(request));
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (complete(data)) finish(data);
    });
    socket.once("error", (error) => finish(`nothing answers there (${describe(error)})`));
    socket.once("end", () =>
      finish(data.length > 0 ? data : "the connection closed without an answer"),
    );
  });
}

function describe(error: unknown): string {
  const { code, message, cause } = error as { code?: string; message?: string; cause?: unknown };
  if (code) return code;
  if (cause) return describe(cause);
  return message ?? String(error);
}
