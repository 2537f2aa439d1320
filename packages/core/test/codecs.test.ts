import { brotliCompressSync, constants, deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  acceptedContentTypes,
  codecByName,
  codecForContentType,
  DEFAULT_ACCEPT,
  registerCodec,
} from "../src/codecs/codec-registry.js";
import { compress, decompress } from "../src/codecs/compression.js";
import {
  ContentTypeNotAcceptedError,
  DecodeError,
  EncodeError,
  InvalidOptionsError,
  TooLargeToDecodeError,
  UnknownCodecError,
} from "../src/errors.js";
import { decodeBody } from "../src/message.js";

const MiB = 1024 * 1024;
/** Brotli at its fastest: its default quality takes seconds over 64 MiB on a loaded machine. */
const fastBrotli = (body: Uint8Array) =>
  brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } });
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("built-in codecs", () => {
  it.each([
    ["json", { a: [1, "é", null, true], nested: { ключ: "値" } }],
    ["text", "héllo, 世界 👋"],
    ["text", ""],
    ["binary", everyByte],
    ["msgpack", { a: [1, "é", null, true], big: 2 ** 40, nested: { k: [] } }],
  ] as const)("%s round-trips its values", (name, value) => {
    const codec = codecByName(name);
    expect(codec.decode(codec.encode(value))).toEqual(value);
  });

  it("msgpack carries bytes as bytes", () => {
    const codec = codecByName("msgpack");
    const decoded = codec.decode(codec.encode({ bytes: everyByte })) as { bytes: Uint8Array };
    expect(Uint8Array.from(decoded.bytes)).toEqual(everyByte);
  });

  it("names their content types and encodings as kombu does", () => {
    expect(codecByName("json")).toMatchObject({
      contentType: "application/json",
      contentEncoding: "utf-8",
    });
    expect(codecByName("text")).toMatchObject({
      contentType: "text/plain",
      contentEncoding: "utf-8",
    });
    expect(codecByName("binary")).toMatchObject({
      contentType: "application/octet-stream",
      contentEncoding: "binary",
    });
    expect(codecByName("msgpack")).toMatchObject({
      contentType: "application/x-msgpack",
      contentEncoding: "binary",
    });
  });

  it("refuses values a codec cannot encode with EncodeError", () => {
    expect(() => codecByName("json").encode(undefined)).toThrow(EncodeError);
    expect(() => codecByName("text").encode(42)).toThrow(EncodeError);
    expect(() => codecByName("binary").encode("not bytes")).toThrow(EncodeError);
  });

  it("refuses text that is not valid UTF-8 instead of guessing", () => {
    expect(() => codecByName("text").decode(new Uint8Array([0xff, 0xfe]))).toThrow(TypeError);
  });

  it("an unknown codec name is an UnknownCodecError naming the built-in ones", () => {
    expect(() => codecByName("pickle")).toThrow(UnknownCodecError);
    expect(() => codecByName("pickle")).toThrow(/json, text, binary, msgpack/);
  });
});

describe("accept list", () => {
  const defaults = acceptedContentTypes(DEFAULT_ACCEPT);

  it("accepts the built-in codecs by default, by content type with parameters", () => {
    expect(codecForContentType("application/json; charset=utf-8", defaults).name).toBe("json");
    expect(codecForContentType("application/x-msgpack", defaults).name).toBe("msgpack");
  });

  it("treats a message without a content type as raw bytes", () => {
    expect(codecForContentType(undefined, defaults).name).toBe("binary");
  });

  it("refuses a content type the consumer did not accept, saying what to add", () => {
    const jsonOnly = acceptedContentTypes(["json"]);
    expect(() => codecForContentType("application/x-msgpack", jsonOnly)).toThrow(
      ContentTypeNotAcceptedError,
    );
    expect(() => codecForContentType("application/x-msgpack", jsonOnly)).toThrow(
      /add 'msgpack' to accept/,
    );
  });

  it("refuses a content type no codec knows (pickle is never guessed)", () => {
    expect(() => codecForContentType("application/x-python-serialize", defaults)).toThrow(
      ContentTypeNotAcceptedError,
    );
  });

  it("does not trust a registered codec until accept names it", () => {
    registerCodec({
      name: "csv-test",
      contentType: "text/csv",
      contentEncoding: "utf-8",
      encode: (rows: unknown) =>
        Buffer.from((rows as string[][]).map((r) => r.join(",")).join("\n")),
      decode: (body) =>
        Buffer.from(body)
          .toString()
          .split("\n")
          .map((line) => line.split(",")),
    });
    expect(() => codecForContentType("text/csv", defaults)).toThrow(ContentTypeNotAcceptedError);
    const widened = acceptedContentTypes([...DEFAULT_ACCEPT, "csv-test"]);
    const codec = codecForContentType("text/csv", widened);
    expect(
      codec.decode(
        codec.encode([
          ["a", "b"],
          ["1", "2"],
        ]),
      ),
    ).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("refuses an accept entry that names nothing known, at once", () => {
    expect(() => acceptedContentTypes(["yaml"])).toThrow(UnknownCodecError);
  });

  it("refuses an incomplete codec", () => {
    expect(() => registerCodec({ name: "x" } as never)).toThrow(InvalidOptionsError);
  });
});

describe("compression", () => {
  it.each(["gzip", "brotli"] as const)("%s round-trips", (kind) => {
    const body = Buffer.from("carrot ".repeat(100));
    const packed = compress(body, kind);
    expect(packed.byteLength).toBeLessThan(body.byteLength);
    expect(
      Buffer.from(
        decompress(packed, kind === "gzip" ? "application/x-gzip" : "application/x-brotli", MiB),
      ),
    ).toEqual(body);
  });

  it("reads kombu's 'gzip' (a zlib stream) and real gzip files alike", () => {
    const body = Buffer.from("feed");
    expect(Buffer.from(decompress(deflateSync(body), "application/x-gzip", MiB))).toEqual(body);
    expect(Buffer.from(decompress(gzipSync(body), "application/x-gzip", MiB))).toEqual(body);
  });

  it("a body that does not decompress is a DecodeError", () => {
    expect(() => decompress(new Uint8Array([1, 2, 3]), "application/x-gzip", MiB)).toThrow(
      DecodeError,
    );
    expect(() => decompress(new Uint8Array([1, 2, 3]), "application/x-lzma", MiB)).toThrow(
      /unknown compression/,
    );
  });

  it.each([
    ["brotli", "application/x-brotli", fastBrotli],
    ["kombu's gzip", "application/x-gzip", deflateSync],
    ["a gzip file", "application/x-gzip", gzipSync],
  ] as const)("a %s bomb stops at the limit with TooLargeToDecodeError", (_, type, pack) => {
    // 64 MiB of zeros packs into a few hundred bytes (brotli) to 64 KiB (zlib).
    const bomb = pack(Buffer.alloc(64 * MiB));
    expect(() => decompress(bomb, type, MiB)).toThrow(TooLargeToDecodeError);
    // A body of exactly the limit still inflates.
    expect(decompress(pack(Buffer.alloc(MiB)), type, MiB).byteLength).toBe(MiB);
  });
});

describe("decodeBody", () => {
  const rules = { accepted: acceptedContentTypes(DEFAULT_ACCEPT), maxDecompressedSize: MiB };
  const raw = (body: Uint8Array, contentType: string, headers = {}) => ({
    body,
    contentType,
    headers,
    properties: {},
  });

  it("decodes by the message's content type, after decompressing", () => {
    const body = compress(Buffer.from('{"a":1}'), "gzip");
    expect(
      decodeBody(raw(body, "application/json", { compression: "application/x-gzip" }), "q", rules),
    ).toEqual({ a: 1 });
  });

  it("an undecodable body is a DecodeError that keeps the cause", () => {
    const error = (() => {
      try {
        decodeBody(raw(Buffer.from("{not json"), "application/json"), "orders", rules);
      } catch (e) {
        return e as DecodeError;
      }
    })();
    expect(error).toBeInstanceOf(DecodeError);
    expect(error?.code).toBe("ERR_CARROT_DECODE");
    expect(error?.cause).toBeInstanceOf(SyntaxError);
    expect(error?.message).toMatch(/^a message from 'orders': the body is not valid json/);
  });

  it("a message the backend could not read is refused with the backend's reason, naming the queue", () => {
    const unreadable = {
      ...raw(Buffer.from("{}"), "application/json"),
      unreadable: new DecodeError("the envelope is null"),
    };
    expect(() => decodeBody(unreadable, "orders", rules)).toThrow(
      /^a message from 'orders': it cannot be read as a carrot message: the envelope is null$/,
    );
    const tooLarge = { ...unreadable, unreadable: new TooLargeToDecodeError("20 MB") };
    expect(() => decodeBody(tooLarge, "orders", rules)).toThrow(TooLargeToDecodeError);
  });

  it("a compressed body over maxDecompressedSize is TooLargeToDecodeError, naming the queue", () => {
    const bomb = fastBrotli(Buffer.alloc(2 * MiB));
    expect(() =>
      decodeBody(
        raw(bomb, "application/json", { compression: "application/x-brotli" }),
        "q",
        rules,
      ),
    ).toThrow(/^a message from 'q': the body inflates to more than 1048576 bytes/);
  });
});
