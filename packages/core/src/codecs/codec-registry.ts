import { ContentTypeNotAcceptedError, InvalidOptionsError, UnknownCodecError } from "../errors.js";
import { BUILTIN_CODECS } from "./builtin-codecs.js";
import { baseContentType, type Codec } from "./codec.js";

const byName = new Map<string, Codec>();
const byContentType = new Map<string, Codec>();
/**
 * The base type of each content type as codecs spell it: what almost every
 * message carries, looked up as it is instead of parsed again per message.
 * Only registered spellings, so that what senders write cannot grow it.
 */
const baseOfRegistered = new Map<string, string>();

/**
 * Registers a codec for every Publisher and Consumer in the process. A
 * registered codec is not accepted by consumers until their `accept` list
 * names it: registering is not trusting.
 */
export function registerCodec(codec: Codec): void {
  if (
    !codec.name ||
    !codec.contentType ||
    typeof codec.encode !== "function" ||
    typeof codec.decode !== "function"
  ) {
    throw new InvalidOptionsError("registerCodec needs { name, contentType, encode, decode }");
  }
  byName.set(codec.name, codec);
  for (const type of [codec.contentType, ...(codec.aliases ?? [])]) {
    byContentType.set(baseContentType(type), codec);
    baseOfRegistered.set(type, baseContentType(type));
  }
}

for (const codec of BUILTIN_CODECS) registerCodec(codec);

export function codecByName(name: string): Codec {
  const codec = byName.get(name);
  if (!codec) {
    throw new UnknownCodecError(
      `no codec named '${name}'; built in: ${BUILTIN_CODECS.map((c) => c.name).join(", ")}; others need registerCodec()`,
    );
  }
  return codec;
}

/** The default accept list: the built-in codecs, all of which only build plain data. */
export const DEFAULT_ACCEPT: readonly string[] = BUILTIN_CODECS.map((c) => c.name);

/**
 * A consumer's accept list (codec names or content types) as the set of base
 * content types it may decode. Unknown names are an error now, not at the
 * first message.
 */
export function acceptedContentTypes(accept: readonly string[]): ReadonlySet<string> {
  const types = new Set<string>();
  for (const entry of accept) {
    const codec = byName.get(entry) ?? byContentType.get(baseContentType(entry));
    if (!codec)
      throw new UnknownCodecError(
        `accept names '${entry}', which is neither a codec name nor a registered content type`,
      );
    for (const type of [codec.contentType, ...(codec.aliases ?? [])])
      types.add(baseContentType(type));
  }
  return types;
}

/**
 * The codec for a received message's content type, if the consumer accepts it.
 * A message without a content type is raw bytes (as kombu treats it).
 */
export function codecForContentType(
  contentType: string | undefined,
  accepted: ReadonlySet<string>,
): Codec {
  const type =
    (contentType && baseOfRegistered.get(contentType)) ??
    baseContentType(contentType || "application/octet-stream");
  const codec = byContentType.get(type);
  if (!codec || !accepted.has(type)) {
    throw new ContentTypeNotAcceptedError(
      codec
        ? `content type '${type}' is not in this consumer's accept list [${[...accepted].join(", ")}]; add '${codec.name}' to accept to receive it`
        : `no codec is registered for content type '${type}'; register one with registerCodec() and add it to accept`,
    );
  }
  return codec;
}
