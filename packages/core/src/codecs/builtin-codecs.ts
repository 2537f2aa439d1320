import { Packr } from "msgpackr";
import { EncodeError } from "../errors.js";
import type { Codec } from "./codec.js";

/**
 * The codecs every consumer accepts by default. None of them can run code or
 * build objects of arbitrary classes from a message (no pickle, no YAML tags,
 * no msgpack records or extension classes).
 */

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export const json: Codec = {
  name: "json",
  contentType: "application/json",
  contentEncoding: "utf-8",
  freshBytes: true,
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined)
      throw new EncodeError(
        `json cannot encode ${typeof value}; send an object, array, string, number, boolean or null`,
      );
    return Buffer.from(text, "utf8");
  },
  decode: (body) => JSON.parse(strictUtf8.decode(body)),
};

export const text: Codec = {
  name: "text",
  contentType: "text/plain",
  contentEncoding: "utf-8",
  freshBytes: true,
  encode(value) {
    if (typeof value !== "string")
      throw new EncodeError(
        `text encodes strings only, got ${typeof value}; use json for other values`,
      );
    return Buffer.from(value, "utf8");
  },
  decode: (body) => strictUtf8.decode(body),
};

export const binary: Codec = {
  name: "binary",
  contentType: "application/octet-stream",
  // kombu's name for raw bytes.
  aliases: ["application/data"],
  contentEncoding: "binary",
  encode(value) {
    if (!(value instanceof Uint8Array))
      throw new EncodeError(`binary encodes Uint8Array (or Buffer) only, got ${typeof value}`);
    return value;
  },
  decode: (body) => body,
};

// Plain MessagePack, readable by any other MessagePack library: records and
// structured-clone extensions are off, so decoding only builds plain data.
const packr = new Packr({
  useRecords: false,
  structuredClone: false,
  moreTypes: false,
  mapsAsObjects: true,
});

export const msgpack: Codec = {
  name: "msgpack",
  contentType: "application/x-msgpack",
  aliases: ["application/msgpack", "application/vnd.msgpack"],
  contentEncoding: "binary",
  encode: (value) => packr.pack(value),
  decode: (body) => packr.unpack(body),
};

export const BUILTIN_CODECS: readonly Codec[] = [json, text, binary, msgpack];
