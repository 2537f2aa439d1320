/**
 * Names of values that are credentials wherever they appear: query
 * parameters (`?token=`, `?secretAccessKey=`, `?X-Amz-Signature=`) and
 * `name=value` or `name: value` pairs in a client's text (a header line of
 * an AWS canonical request, `Authorization: ...`). Matched on the name
 * lowercased without separators, by its end, so that `access_key`,
 * `session-token` and `x-amz-security-token` are caught as well; hiding a
 * harmless value by mistake costs less than showing a secret.
 */
const SECRET_NAME =
  /(password|passwd|pwd|secret|token|auth|authorization|key|sig|signature|credentials?)$/;

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(/[^a-z0-9]/g, ""));
}

/**
 * The secret of a user name and password: the password; or the user name
 * when it comes alone, since it is then a token (`redis://TOKEN@host`).
 */
export function secretOf(username?: string, password?: string): string | undefined {
  return password || username || undefined;
}

/**
 * URLs as they may be shown: in errors, logs and `toString()`.
 * - A password is replaced by `***`, the user name kept (it says who was refused).
 * - A user name with no password is a token, and is replaced by `***`.
 * - Query parameters named as credentials (see SECRET_NAME) get `***` as
 *   value; a query value that is itself a URL (`?endpoint=`) is redacted in turn.
 * Anything unparsable is shown only by its scheme, since it may hold a
 * password we cannot find; so is a URL with no `//` after its scheme but
 * an `@` (`amqp:/user:password@host`, a slash short), which parses as a path.
 */
export function redactUrl(url: string): string {
  const hosts = MORE_HOSTS.exec(url);
  if (hosts) {
    // A multi-node URL (redis+cluster://h1:7000,h2:7000): redacted with its
    // first node, then shown with all of them.
    const [, head = "", more = ""] = hosts;
    const redacted = redactUrl(url.replace(MORE_HOSTS, head));
    const authority = redacted.indexOf("//") + 2;
    const end = redacted.slice(authority).search(/[/?#]/);
    const at = end === -1 ? redacted.length : authority + end;
    return `${redacted.slice(0, at)}${more}${redacted.slice(at)}`;
  }
  const [, scheme, slashes] = SCHEME.exec(url) ?? [];
  const parsed = parseUrl(url);
  if (!parsed || (!slashes && url.includes("@")))
    return scheme ? `${scheme}://(unparsable URL)` : "(unparsable URL)";
  hideCredentials(parsed);
  return parsed.toString();
}

/** The authority of a multi-node URL: up to its first host, then the others (`,h2:p2,...`). */
const MORE_HOSTS = /^(\s*[a-z][a-z0-9+.-]*:\/\/(?:[^/?#@]*@)?[^/?#,@]*)(,[^/?#@]*)(?=[/?#]|$)/i;

/** A URL's scheme, and the `//` that starts its authority. */
const SCHEME = /^([a-z][a-z0-9+.-]*):(\/\/)?/i;

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Hides the credentials in `url`. */
function hideCredentials(url: URL): void {
  if (url.password) url.password = "***";
  else if (url.username) url.username = "***";
  const search = redactQuery(url.search);
  // Set only when changed: setting it writes the query anew.
  if (search !== url.search) url.search = search;
}

/** The query with credential values hidden; the pairs that hold none are kept as written. */
function redactQuery(search: string): string {
  if (search.length <= 1) return search;
  const pairs = search.slice(1).split("&");
  return `?${pairs.map(redactPair).join("&")}`;
}

function redactPair(pair: string): string {
  const equals = pair.indexOf("=");
  if (equals === -1) return pair;
  const name = pair.slice(0, equals);
  if (isSecretName(decodeQuery(name))) return `${name}=***`;
  const value = decodeQuery(pair.slice(equals + 1));
  if (!value.includes("://")) return pair;
  const redacted = redactUrl(value);
  // Unchanged but for how the URL is written (a trailing "/"): kept as the user wrote it.
  if (redacted === parseUrl(value)?.toString()) return pair;
  return `${name}=${encodeURIComponent(redacted)}`;
}

function decodeQuery(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** A URL inside a text: up to a space, a quote or a bracket, and not the punctuation after it. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>()[\]{}]*[^\s'"`<>()[\]{}.,;:!?]/gi;
/** `name=value` or `name: value`; the value ends at a space or a separator. */
const PAIR_IN_TEXT = /(?<![\w-])([a-z][\w-]*)(\s*[:=]\s*)([^\s&,;'"`<>()[\]{}]+)/gi;

/**
 * A client library's text (an error's message or stack) as it may be shown:
 * URLs through `redactUrl`, the values of credential-named pairs hidden, and
 * every one of `secrets` (the connection's passwords and tokens, as the
 * client was given them) replaced by `***` wherever it stands.
 */
export function redactText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let redacted = text
    .replace(URL_IN_TEXT, (url) => redactUrl(url))
    .replace(PAIR_IN_TEXT, (pair, name: string, separator: string) =>
      isSecretName(name) ? `${name}${separator}***` : pair,
    );
  for (const secret of secrets) {
    if (secret) redacted = redacted.split(secret).join("***");
  }
  return redacted;
}
