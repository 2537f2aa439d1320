/**
 * URLs as they may be shown: in errors, logs and `toString()`. A password in
 * the userinfo is replaced by `***`; anything unparsable is shown only by its
 * scheme, since it may hold a password we cannot find.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    return scheme ? `${scheme}://(unparsable URL)` : "(unparsable URL)";
  }
}
