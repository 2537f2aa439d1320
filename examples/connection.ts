/**
 * "Creating a connection": carrot's AMQP fields, or a URL whose scheme picks
 * the backend. Connecting is lazy; connect() does it now and fails fast with
 * a typed error (never showing the password).
 */
import { AMQPConnection, Connection } from "@carrot/core";

/** The seed's form: AMQP with individual fields. */
export function seedConnection(): Connection {
  return new AMQPConnection({
    hostname: "localhost",
    port: 5672,
    userid: "test",
    password: "test",
    vhost: "test",
  });
}

/** Any broker by URL: memory://, amqp://, redis://, sqs://. */
export async function connectTo(url: string): Promise<Connection> {
  return new Connection(url).connect();
}
