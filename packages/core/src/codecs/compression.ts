import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateSync,
  gunzipSync,
  inflateSync,
} from "node:zlib";
import { DecodeError, UnknownCodecError } from "../errors.js";

/**
 * Optional body compression, recorded in the `compression` header as kombu
 * does, so that kombu and carrot read each other's compressed messages.
 * kombu's "gzip" is really a zlib stream (deflate with the zlib header);
 * we write the same, and read real gzip files too.
 */
export const COMPRESSIONS = {
  gzip: "application/x-gzip",
  brotli: "application/x-brotli",
} as const;

export type Compression = keyof typeof COMPRESSIONS;

export const COMPRESSION_HEADER = "compression";

export function compress(body: Uint8Array, compression: Compression): Uint8Array {
  switch (compression) {
    case "gzip":
      return deflateSync(body);
    case "brotli":
      return brotliCompressSync(body);
    default:
      throw new UnknownCodecError(
        `no compression named '${String(compression)}'; use one of: ${Object.keys(COMPRESSIONS).join(", ")}`,
      );
  }
}

export function decompress(body: Uint8Array, contentType: string): Uint8Array {
  try {
    switch (contentType) {
      case COMPRESSIONS.gzip:
      case "gzip":
      case "zlib":
        // 1f 8b opens a gzip file; anything else is the zlib stream kombu writes.
        return body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : inflateSync(body);
      case COMPRESSIONS.brotli:
      case "brotli":
        return brotliDecompressSync(body);
    }
  } catch (error) {
    throw new DecodeError(`the body could not be decompressed as '${contentType}'`, {
      cause: error,
    });
  }
  throw new DecodeError(`unknown compression '${contentType}' in the message's compression header`);
}
