import { inspect } from "node:util";
import { vi } from "vitest";

/**
 * Where a secret shows, for the tests of every backend: each error is read
 * the ways an application or a logger reads it (message, stack, String(),
 * util.inspect with everything, JSON of its own properties), and so is each
 * error of its cause chain; anything else (an event payload, logged
 * arguments, a connection) through inspect and JSON. The secret is looked
 * for as given, percent-encoded, and in base64 (as HTTP basic auth and AMQP
 * PLAIN carry it).
 */
export function leaks(subjects: readonly unknown[], secrets: readonly string[]): string[] {
  const found: string[] = [];
  const forms = secrets.flatMap((secret) => leakForms(secret).map((form) => ({ secret, form })));
  subjects.forEach((subject, index) => {
    for (const [where, text] of renderings(subject, `subject ${index}`)) {
      for (const { secret, form } of forms) {
        // Named by position, not quoted: that would show it in the report too.
        if (text.includes(form)) found.push(`${where} shows secret #${secrets.indexOf(secret)}`);
      }
    }
  });
  return found;
}

/** The secret, percent-encoded, and its base64 whatever the bytes before it (three alignments). */
function leakForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)]);
  for (let before = 0; before < 3; before++) {
    const base64 = Buffer.concat([Buffer.alloc(before), Buffer.from(secret)]).toString("base64");
    // The groups that also hold the bytes before it, or the padding, differ with the context.
    const core = base64.slice(before === 0 ? 0 : 4, -4);
    if (core.length >= 8) forms.add(core);
  }
  return [...forms];
}

function* renderings(subject: unknown, where: string): Generator<[string, string]> {
  const seen = new Set<unknown>();
  let error: unknown = subject;
  let depth = 0;
  while (error instanceof Error && !seen.has(error)) {
    seen.add(error);
    const at = depth === 0 ? where : `${where}, cause ${depth}`;
    yield [`${at}: message`, error.message];
    yield [`${at}: stack`, String(error.stack)];
    yield [`${at}: String()`, String(error)];
    yield [`${at}: inspect`, inspectAll(error)];
    yield [`${at}: JSON`, json(ownProperties(error))];
    error = error.cause;
    depth++;
  }
  if (depth > 0) return;
  yield [`${where}: String()`, String(subject)];
  yield [`${where}: inspect`, inspectAll(subject)];
  yield [`${where}: JSON`, json(subject)];
  if (typeof subject === "object" && subject !== null) {
    for (const [name, value] of Object.entries(subject)) {
      if (value instanceof Error) yield* renderings(value, `${where}.${name}`);
    }
  }
}

/** Enumerable or not (`message`, `stack`, a client's hidden fields). */
function ownProperties(error: Error): Record<string, unknown> {
  const fields = error as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.getOwnPropertyNames(error).map((name) => [name, fields[name]]));
}

function inspectAll(value: unknown): string {
  return inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true });
}

function json(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return inspectAll(value);
  }
}

/** What can carry an error out of a connection: its events. */
interface EventSource {
  on(
    event: "connect" | "disconnect" | "reconnect" | "error",
    listener: (e: unknown) => void,
  ): unknown;
}

/**
 * Records what a test's connections emit and what is written to the console
 * or as a process warning while it runs, for `leaks`. `stop()` ends the
 * console spies and returns everything recorded.
 */
export function recordShown(...sources: EventSource[]): { stop(): unknown[] } {
  const shown: unknown[] = [];
  for (const source of sources) {
    for (const event of ["connect", "disconnect", "reconnect", "error"] as const)
      source.on(event, (payload) => shown.push(payload));
  }
  const spies = [
    ...(["log", "info", "warn", "error", "debug", "trace"] as const).map((method) =>
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        shown.push(args);
      }),
    ),
    vi.spyOn(process, "emitWarning").mockImplementation((...args: unknown[]) => {
      shown.push(args);
    }),
  ];
  return {
    stop() {
      for (const spy of spies) spy.mockRestore();
      return shown;
    },
  };
}
