import type { Schema } from "../schema.js";

/**
 * Types that say what each codec carries, so that a payload type is what the
 * consumer really receives: with json, `Publisher<{ at: Date }>` does not
 * compile, because JSON carries the Date as a string.
 *
 * How: `Publisher<T, S>` and `Consumer<T, S>` bound `T` by
 * {@link CarriedBy}`<T, S>`, where `S` is the codec's name ("json" by
 * default). That bound is `unknown` when the codec carries `T` (so any such
 * type, interfaces included, compiles), and {@link Carried}`<T, S>`
 * otherwise: `T` with each part the codec cannot carry replaced by a
 * {@link CannotCarry} naming why, which `T` then fails to match, and the
 * compiler shows the reason. A generic `T` (a helper's own type parameter)
 * is not judged: it is judged where a caller names the type.
 */

/** What a codec cannot carry, and why: a payload type fails to match it, and the compiler shows the reason. */
export interface CannotCarry<Why extends string> {
  /** Why: what the codec would do with the value, and what to send instead. */
  readonly "carrot cannot send this type": Why;
}

/**
 * The payload type of each codec that carries one type only, by codec name.
 * A codec of your own declares its type here (`declare module "@carrot/core"
 * { interface CodecPayloads { protobuf: MyMessage } }`); a codec not named
 * here (registered without a declaration) is not checked: its payloads are
 * `unknown`. json and msgpack are not here: they carry some types and not
 * others, which {@link Carried} works out part by part.
 */
export interface CodecPayloads {
  /** `text` encodes strings only. */
  text: string;
  /** `binary` sends bytes as they are (a Buffer is a Uint8Array); it decodes to a Buffer. */
  binary: Uint8Array;
}

/**
 * What decides a payload's type: a codec's name (json, msgpack, text,
 * binary, or one from `registerCodec`), or, on a Consumer, the schema whose
 * output the callbacks receive.
 */
// biome-ignore lint/suspicious/noExplicitAny: any schema, whatever its output type.
export type PayloadSource = string | Schema<any>;

/**
 * `T` as the codec `S` carries it: `T` itself where the codec carries it,
 * and a {@link CannotCarry} where it does not (a Date in json, a Map, a
 * function, a bigint in json...). `Where` is where the value sits: undefined
 * is fine as an object's property (json leaves it out, which an optional
 * property allows), not as a whole message or an array's item (json sends
 * null there). `Mode` "encodable" asks less, for data whose type claims
 * nothing (a `Publisher<unknown>`'s sends): only what the codec cannot
 * encode at all (json: a bigint anywhere, a function as the message, a
 * symbol; msgpack: a symbol). undefined as the message, which json cannot
 * encode either, still compiles there and fails as an `EncodeError`.
 */
export type Carried<
  T,
  S,
  Where extends "message" | "item" | "property" = "message",
  Mode extends "carried" | "encodable" = "carried",
> = S extends "json" | "msgpack"
  ? T extends string | number | boolean | null
    ? T
    : T extends symbol
      ? CannotCarry<`${S} cannot carry a symbol`>
      : T extends bigint
        ? S extends "msgpack"
          ? T
          : CannotCarry<"json cannot carry a bigint (JSON.stringify throws): send it as a string, or use msgpack">
        : T extends undefined
          ? Where extends "property"
            ? T
            : S extends "msgpack"
              ? T
              : Mode extends "encodable"
                ? T
                : CannotCarry<"json cannot carry undefined as a message or an array item (JSON.stringify sends nothing, or null): use null">
          : T extends (...args: never) => unknown
            ? [Where, Mode] extends ["message", unknown] | [unknown, "carried"]
              ? CannotCarry<`${S} cannot carry a function (a method, on a class instance?): send plain data`>
              : T
            : Mode extends "encodable"
              ? T extends Date | ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
                ? T
                : T extends ArrayBufferView | ArrayBufferLike
                  ? T
                  : T extends object
                    ? { [K in keyof T]: Carried<T[K], S, "property", Mode> }
                    : T
              : T extends Date
                ? S extends "msgpack"
                  ? T
                  : CannotCarry<"json carries a Date as an ISO string: type it string, or give the Consumer a schema that makes it a Date, or use msgpack">
                : T extends ReadonlyMap<unknown, unknown>
                  ? CannotCarry<`${S} carries a Map as ${S extends "json" ? "an empty object" : "a plain object"}: send Object.fromEntries(map) typed as a Record`>
                  : T extends ReadonlySet<unknown>
                    ? CannotCarry<`${S} carries a Set as ${S extends "json" ? "an empty object" : "an array"}: send [...set] typed as an array`>
                    : T extends Uint8Array
                      ? S extends "msgpack"
                        ? T
                        : CannotCarry<"json carries bytes as an object of numbers: use the binary codec or msgpack, or send base64 in a string">
                      : T extends ArrayBufferView | ArrayBufferLike
                        ? CannotCarry<`${S} cannot carry typed arrays other than Uint8Array, nor an ArrayBuffer`>
                        : T extends readonly unknown[]
                          ? { [K in keyof T]: Carried<T[K], S, "item", Mode> }
                          : T extends object
                            ? { [K in keyof T]: Carried<T[K], S, "property", Mode> }
                            : T
  : S extends keyof CodecPayloads
    ? CodecPayloads[S]
    : unknown;

/**
 * The bound of a payload type `T` for `S` (a codec's name, or a Consumer's
 * schema): `unknown` when `S` carries `T`, otherwise {@link Carried}`<T, S>`,
 * which `T` fails to match, naming why. With a schema, the schema's output
 * decides: it may be richer than the codec (a schema that turns an ISO
 * string into a Date is how a json consumer receives a Date).
 */
export type CarriedBy<T, S> = ([T] extends [Carried<T, S>] ? false : true) extends true
  ? Carried<T, S>
  : unknown;
