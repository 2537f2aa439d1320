import { redactUrl } from "@carrot/core";
import {
  ConflictingSettingsError,
  describeOrigin,
  InvalidSettingError,
  type SettingOrigin,
} from "./settings-errors.js";

/** The connection fields a broker URL also spells: host, port, user, password, vhost. */
export const ADDRESS_FIELDS = ["hostname", "port", "userid", "password", "vhost"] as const;
export type AddressField = (typeof ADDRESS_FIELDS)[number];
export type Address = {
  hostname?: string;
  port?: number;
  userid?: string;
  password?: string;
  vhost?: string;
};

const PART_NAMES: Record<AddressField, string> = {
  hostname: "host",
  port: "port",
  userid: "user",
  password: "password",
  vhost: "vhost",
};

/** The parts a URL states. An absent part (no userinfo, no port, an empty path) is left out, so a setting may fill it. */
export function statedAddress(url: URL, origin: SettingOrigin): Address {
  const address: Address = {};
  try {
    if (url.hostname) address.hostname = url.hostname.replace(/^\[|\]$/g, "");
    if (url.port) address.port = Number(url.port);
    if (url.username) address.userid = decodeURIComponent(url.username);
    if (url.password) address.password = decodeURIComponent(url.password);
    if (url.pathname.length > 1) address.vhost = decodeURIComponent(url.pathname.slice(1));
  } catch {
    // The URIError names no value, but a malformed escape may sit in the password: say only where.
    throw new InvalidSettingError(
      `${describeOrigin(origin)} holds invalid percent-encoding (${redactUrl(url.href)}); encode reserved characters as %XX`,
      [origin],
    );
  }
  return address;
}

/** A copy of the URL with these parts set (percent-encoded as a URL needs). */
export function withAddress(url: URL, address: Address): URL {
  const copy = new URL(url.href);
  // The host first: a URL with no host cannot hold a user or a port.
  if (address.hostname !== undefined)
    copy.hostname = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
  if (address.port !== undefined) copy.port = String(address.port);
  if (address.userid !== undefined) copy.username = encodeURIComponent(address.userid);
  if (address.password !== undefined) copy.password = encodeURIComponent(address.password);
  if (address.vhost !== undefined) copy.pathname = `/${encodeURIComponent(address.vhost)}`;
  return copy;
}

export function sameValue(field: AddressField, a: string | number, b: string | number): boolean {
  return field === "hostname" ? String(a).toLowerCase() === String(b).toLowerCase() : a === b;
}

/**
 * BROKER_URL says one thing and a field setting another. The password is
 * compared, never shown; so is the user of a URL that has no password,
 * since that user name is a token (as `redactUrl` has it).
 */
export function addressConflict(
  field: AddressField,
  fieldValue: string | number,
  fieldOrigin: SettingOrigin,
  urlValue: string | number,
  url: URL,
  urlOrigin: SettingOrigin,
): ConflictingSettingsError {
  const secret = field === "password" || (field === "userid" && !url.password);
  const said = secret
    ? `${describeOrigin(fieldOrigin)} differs from the ${PART_NAMES[field]} in ${describeOrigin(urlOrigin)}`
    : `${describeOrigin(fieldOrigin)} is ${JSON.stringify(fieldValue)} but ${describeOrigin(urlOrigin)} names ${PART_NAMES[field]} ${JSON.stringify(urlValue)}`;
  return new ConflictingSettingsError(
    `${said} (${redactUrl(url.href)}); set only one of them, or make them agree`,
    [fieldOrigin, urlOrigin],
  );
}
