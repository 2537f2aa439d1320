import { InvalidOptionsError } from "./errors.js";

/**
 * A broker URL, parsed; or an `InvalidOptionsError` that shows it as
 * `shown` (redacted), says what is wrong where the slip is recognisable
 * (`urlFormProblem`), and what to write (`expected`). The parser's own
 * error is not kept as a cause: it holds the URL, password and all.
 */
export function parseBrokerUrl(text: string, shown: string, expected: string): URL {
  try {
    return new URL(text);
  } catch {
    const problem = urlFormProblem(text);
    throw new InvalidOptionsError(
      `${shown} is not a valid URL${problem ? ` (${problem})` : ""}; expected ${expected}`,
    );
  }
}

/**
 * Why a broker URL that does not parse is wrong, when it is a slip we can
 * recognise, said as what to write instead; undefined otherwise. It never
 * quotes the user name or the password.
 */
export function urlFormProblem(text: string): string | undefined {
  const rest = /^[a-z][a-z0-9+.-]*:\/\/(.*)$/is.exec(text)?.[1];
  if (rest === undefined) return undefined;
  const authority = rest.split(/[/?#]/, 1)[0] ?? "";
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  const port = /^(?:\[[^\]]*\]|[^:[]*):(.*)$/s.exec(hostPort)?.[1];
  if (port !== undefined && !/^\d*$/.test(port)) {
    // "user:pa/ss@host": the "/" ended the authority early, and the
    // password's start now reads as a port (so it is not shown).
    if (at === -1 && rest.slice(authority.length).includes("@"))
      return "write a '/', '?', '#' or '@' in the user name or password percent-encoded (%2F, %3F, %23, %40)";
    return `the port '${port}' is not a number`;
  }
  if (port !== undefined && Number(port) > 65_535) return `the port ${port} is over 65535`;
  if (hostPort.startsWith("[") && !hostPort.includes("]"))
    return "an IPv6 address needs its closing ']'";
  if (/\s/.test(hostPort)) return "the host name holds a space";
  return undefined;
}
