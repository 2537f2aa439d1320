import { describeOrigin, type SettingOrigin, UnknownBackendError } from "./settings-errors.js";

/**
 * CARROT_BACKEND's values: a URL scheme, or one of carrot's names for its
 * backends (its aliases and its dotted class paths), mapped to the scheme of
 * the carrot for TypeScript backend that does the same job.
 */
const BACKEND_SCHEMES: Readonly<Record<string, string>> = {
  amqp: "amqp",
  amqps: "amqps",
  amqplib: "amqp",
  pyamqplib: "amqp",
  pika: "amqp",
  pikachu: "amqp",
  syncpika: "amqp",
  "carrot.backends.pyamqplib.Backend": "amqp",
  "carrot.backends.pikachu.AsyncoreBackend": "amqp",
  "carrot.backends.pikachu.SyncBackend": "amqp",
  memory: "memory",
  mem: "memory",
  "carrot.backends.queue.Backend": "memory",
  redis: "redis",
  rediss: "rediss",
  sqs: "sqs",
};

/** carrot's STOMP backend has no counterpart: named so the error can say so instead of "unknown". */
const STOMP_NAMES = new Set(["stomp", "stompy", "carrot.backends.pystomp.Backend"]);

/** The TLS variant of a scheme, and back: a URL's scheme agrees with CARROT_BACKEND in either form. */
export const SECURE_SCHEMES: Readonly<Record<string, string>> = { amqp: "amqps", redis: "rediss" };

export function schemeFamily(scheme: string): string {
  return Object.entries(SECURE_SCHEMES).find(([, secure]) => secure === scheme)?.[0] ?? scheme;
}

/**
 * The scheme CARROT_BACKEND names. A name carrot does not list but spelled as
 * a scheme passes through, since a third-party backend may serve it
 * (`registerBackend`); core then checks that one does.
 */
export function backendScheme(name: string, origin: SettingOrigin): string {
  const bare = name.trim().replace(/:(\/\/)?$/, "");
  const known = BACKEND_SCHEMES[bare] ?? BACKEND_SCHEMES[bare.toLowerCase()];
  if (known) return known;
  if (STOMP_NAMES.has(bare)) {
    throw new UnknownBackendError(
      `${describeOrigin(origin)} is '${bare}', carrot's STOMP backend, which carrot for TypeScript does not have; use amqp, redis, sqs or memory`,
      [origin],
    );
  }
  if (bare.startsWith("carrot.backends.") || !/^[a-z][a-z0-9+.-]*$/i.test(bare)) {
    throw unknownBackend(origin, bare);
  }
  return bare.toLowerCase();
}

export function unknownBackend(
  origin: SettingOrigin,
  name: string,
  cause?: unknown,
): UnknownBackendError {
  return new UnknownBackendError(
    `${describeOrigin(origin)} names no backend carrot knows: '${name}'; use one of ${Object.keys(BACKEND_SCHEMES).join(", ")}, or register one with registerBackend(scheme, factory)`,
    [origin],
    cause === undefined ? undefined : { cause },
  );
}
