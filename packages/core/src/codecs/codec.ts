/** How a value becomes bytes and back, named and identified by its content type. */
export interface Codec<T = unknown> {
  /** The name publishers choose it by (`serializer: "json"`). */
  readonly name: string;
  /** Sent with every message it encodes; consumers pick the codec by it. */
  readonly contentType: string;
  /** Other content types it also decodes (what other clients send for the same format). */
  readonly aliases?: readonly string[];
  /** "utf-8" for text formats, "binary" otherwise. */
  readonly contentEncoding: string;
  /** The value as bytes; throws for a value the format cannot hold (core reports it as an `EncodeError`). */
  encode(value: T): Uint8Array;
  /**
   * `encode` returns new bytes on every call, which neither the value nor
   * the codec keeps: a backend that stores a message may then keep them as
   * they are, with no copy (see `PublishRequest.freshBody`). Absent: false.
   */
  readonly freshBytes?: boolean;
  /** The value from a received body; throws for bytes that are not this format (core reports a `DecodeError`). */
  decode(body: Uint8Array): T;
}

/** The content type without parameters, lower-cased: "application/json; charset=utf-8" -> "application/json". */
export function baseContentType(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}
