// Payload types that tell the truth: what each codec cannot carry does not
// compile. Checked by tsc (`pnpm typecheck`, this package's tsconfig takes
// test/), not run: every `@ts-expect-error` below must meet an error, and
// every other line must compile.

import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  type CannotCarry,
  type Connection,
  Consumer,
  type ConsumerOptions,
  type Message,
  Publisher,
} from "../src/index.js";

/** A plain interface: no implicit index signature, and still a json payload. */
interface Feed {
  url: string;
  tags?: string[];
  retries: number | null;
  nested: { at: string; flags: readonly boolean[] }[];
}
/** The same as a type alias. */
type FeedAlias = { url: string; tags?: string[]; meta: Record<string, unknown> };
/** Recursive types are judged to the bottom. */
interface Tree {
  name: string;
  children: Tree[];
}
interface Dated {
  at: Date;
}
class DataOnly {
  x = 1;
  y = "y";
}
class WithMethod {
  x = 1;
  double(): number {
    return this.x * 2;
  }
}

/** A schema that turns an ISO string into a Date: how a json consumer gets a Date. */
const datedSchema: StandardSchemaV1<{ at: string }, Dated> = {
  "~standard": {
    version: 1,
    vendor: "test",
    validate: (value) => ({ value: { at: new Date((value as { at: string }).at) } }),
  },
};

export function json(connection: Connection, feed: Feed, alias: FeedAlias, tree: Tree): void {
  // What json carries compiles: interfaces, aliases, records, tuples, unknown, class data.
  void new Publisher<Feed>(connection).send(feed);
  void new Publisher<FeedAlias>(connection).send(alias);
  void new Publisher<Tree>(connection).send(tree);
  void new Publisher<[number, string]>(connection).send([1, "a"]);
  void new Publisher<string | number | boolean | null>(connection);
  void new Publisher<unknown>(connection);
  void new Publisher<DataOnly>(connection);
  void new Consumer<Feed>(connection, { queue: "q" });
  void new Consumer<{ optional?: string; maybe: string | undefined }>(connection, { queue: "q" });
  const options: ConsumerOptions<Feed> = { queue: "q" };
  void new Consumer<Feed>(connection, options);

  // What it cannot carry does not.
  // @ts-expect-error a Date arrives as a string
  void new Publisher<Dated>(connection);
  // @ts-expect-error a Date arrives as a string
  void new Consumer<Dated>(connection, { queue: "q" });
  // @ts-expect-error nested, optional, in an array: still a string
  void new Consumer<{ events: { at?: Date }[] }>(connection, { queue: "q" });
  // @ts-expect-error a Map arrives as {}
  void new Consumer<{ index: Map<string, number> }>(connection, { queue: "q" });
  // @ts-expect-error a Set arrives as {}
  void new Publisher<Set<string>>(connection);
  // @ts-expect-error JSON.stringify throws on a bigint
  void new Publisher<{ id: bigint }>(connection);
  // @ts-expect-error a function is dropped
  void new Publisher<{ callback: () => void }>(connection);
  // @ts-expect-error a class instance arrives without its methods
  void new Consumer<WithMethod>(connection, { queue: "q" });
  // @ts-expect-error undefined in an array arrives as null
  void new Publisher<(string | undefined)[]>(connection);
  // @ts-expect-error undefined as a message is not sent at all
  void new Publisher<string | undefined>(connection);
  // @ts-expect-error bytes arrive as an object of numbers
  void new Publisher<{ body: Uint8Array }>(connection);
  // @ts-expect-error a record of Dates
  void new Publisher<Record<string, Date>>(connection);
  // @ts-expect-error a subclass names its payload type too
  class DatedConsumer extends Consumer<Dated> {}
  void DatedConsumer;
}

export function send(connection: Connection, feed: Feed, dated: Dated): void {
  const untyped = new Publisher(connection, { routingKey: "q" });
  void untyped.send({ url: "u" });
  void untyped.send(feed); // an interface, with no index signature
  void untyped.send([1, "two", null]);
  void untyped.send(JSON.parse("{}") as unknown);
  // Untyped, a send claims nothing about what arrives: it need only be encodable.
  void untyped.send(dated);
  void untyped.send(new Uint8Array([1]));
  // @ts-expect-error json cannot encode a bigint (JSON.stringify throws)
  void untyped.send(10n);
  // @ts-expect-error nor one deep inside
  void untyped.send({ page: { total: 10n } });
  // @ts-expect-error nor is a function
  void untyped.send(() => 1);
  // Pre-encoded data goes as it is, with its content type.
  void untyped.send(new Uint8Array([1]), { contentType: "application/x-protobuf" });
  // This send's own serializer judges its data.
  void untyped.send(dated, { serializer: "msgpack" });
  // @ts-expect-error text carries strings
  void untyped.send(42, { serializer: "text" });

  const typed = new Publisher<Feed>(connection);
  void typed.send(feed);
  void typed.send({ url: "u", retries: null, nested: [] });
  // @ts-expect-error a typed Publisher keeps its excess-property check
  void typed.send({ url: "u", retries: null, nested: [], extra: 1 });
  // @ts-expect-error nor does it take another type
  void typed.send("a string");
}

export function codecs(connection: Connection, dated: Dated): void {
  // msgpack carries Dates, bigints, undefined and bytes; not Maps, Sets or functions.
  const packed = new Publisher(connection, { serializer: "msgpack" });
  void packed.send(dated);
  void packed.send(10n);
  void packed.send({ body: new Uint8Array([1]), gone: undefined });
  // @ts-expect-error msgpack cannot encode a symbol
  void packed.send({ tag: Symbol("t") });
  void new Publisher<Dated, "msgpack">(connection, { serializer: "msgpack" });
  void new Consumer<{ at: Date; id: bigint }, "msgpack">(connection, { queue: "q" });
  // @ts-expect-error msgpack carries a Set as an array
  void new Consumer<{ tags: Set<string> }, "msgpack">(connection, { queue: "q" });

  // text takes strings, binary Uint8Arrays (a Buffer is one).
  void new Publisher<string, "text">(connection, { serializer: "text" });
  void new Publisher(connection, { serializer: "binary" }).send(Buffer.from("x"));
  // @ts-expect-error text carries strings
  void new Publisher<number, "text">(connection, { serializer: "text" });
  // @ts-expect-error binary carries bytes
  void new Publisher(connection, { serializer: "binary" }).send("x");
  // A Publisher<T> with a json-safe T may name another serializer without naming it as S.
  void new Publisher<string>(connection, { serializer: "text" });

  // A codec of one's own is unchecked until it declares its type in CodecPayloads
  // (types-check/honest-types.ts: an augmentation here would reach the API reference).
  void new Publisher(connection, { serializer: "cbor" }).send(new Map());
}

export async function schemas(connection: Connection): Promise<void> {
  // A schema decides: its output type is what callbacks receive, a Date included.
  const consumer = new Consumer(connection, { queue: "q", schema: datedSchema });
  consumer.registerCallback((data, message: Message<Dated>) => {
    const at: Date = data.at;
    void at;
    void message;
  });
  const message = await consumer.fetch();
  const at: Date | undefined = message?.payload.at;
  void at;
  void new Consumer<Dated, typeof datedSchema>(connection, { queue: "q", schema: datedSchema });
  // @ts-expect-error with T written out and no schema type, json judges T
  void new Consumer<Dated>(connection, { queue: "q", schema: datedSchema });
  // A Publisher's schema checks data that its codec then encodes: it must carry it.
  // @ts-expect-error the Date would still arrive as a string
  void new Publisher(connection, { schema: datedSchema });
}

/** A helper generic in its payload type compiles; its callers' types are judged. */
export function generic<T>(connection: Connection, queue: string, data: T): Consumer<T> {
  void new Publisher<T>(connection).send(data);
  return new Consumer<T>(connection, { queue });
}

/** The reason shows in the compiler's message. */
export const reason: CannotCarry<"json cannot carry a bigint"> = {
  "carrot cannot send this type": "json cannot carry a bigint",
};
