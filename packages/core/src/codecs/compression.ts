import {
  brotliCompressSync,
  brotliDecompressSync,
  deflateSync,
  gunzipSync,
  inflateSync,
} from "node:zlib";
import { DecodeError, TooLargeToDecodeError, UnknownCodecError } from "../errors.js";

/**
 * Optional body compression, recorded in the `compression` header as kombu
 * does, so that kombu and carrot read each other's compressed messages.
 * kombu's "gzip" is really a zlib stream (deflate with the zlib header);
 * we write the same, and read real gzip files too.
 */
export type Compression = "gzip" | "brotli";

/** The `compression` header's value for each compression, as kombu writes it. */
export const COMPRESSIONS = {
  gzip: "application/x-gzip",
  brotli: "application/x-brotli",
} as const satisfies Record<Compression, string>;

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

/** The default for `maxDecompressedSize` when the backend's own limit is smaller. */
export const MIN_DECOMPRESSED_LIMIT = 16 * 1024 * 1024;

/**
 * Inflates a body, to `maxSize` bytes at most: zlib stops there, so a small
 * body that would inflate to gigabytes (a compression bomb) costs no more
 * memory or time than a legitimate body of `maxSize` bytes.
 */
export function decompress(body: Uint8Array, contentType: string, maxSize: number): Uint8Array {
  const limit = { maxOutputLength: maxSize };
  try {
    switch (contentType) {
      case COMPRESSIONS.gzip:
      case "gzip":
      case "zlib":
        // 1f 8b opens a gzip file; anything else is the zlib stream kombu writes.
        return body[0] === 0x1f && body[1] === 0x8b
          ? gunzipSync(body, limit)
          : inflateSync(body, limit);
      case COMPRESSIONS.brotli:
      case "brotli":
        return brotliDecompressSync(body, limit);
    }
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new TooLargeToDecodeError(
        `the body inflates to more than ${maxSize} bytes (maxDecompressedSize); it was not decoded`,
      );
    }
    throw new DecodeError(`the body could not be decompressed as '${contentType}'`, {
      cause: error,
    });
  }
  throw new DecodeError(`unknown compression '${contentType}' in the message's compression header`);
}
