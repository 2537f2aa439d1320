/** A connection option a setting fills. */
export type SettingField =
  | "url"
  | "backend"
  | "hostname"
  | "port"
  | "userid"
  | "password"
  | "vhost"
  | "tls"
  | "connectTimeout";

/** One setting carrot reads. */
export interface Setting {
  /** The connection option it fills. */
  readonly field: SettingField;
  /** Its name (`BROKER_HOST`), read first. */
  readonly name: string;
  /** Older names read when `name` is absent, in this order, each with a deprecation warning. */
  readonly deprecated: readonly string[];
}

/**
 * The settings carrot reads, as data: each connection field, its name, and
 * its deprecated names. carrot 0.10 read `BROKER_*`, then `AMQP_*`, then
 * `AMQP_SERVER` for the host; the last three rows are the names its
 * successors (kombu, celery) used.
 */
export const SETTINGS: readonly Setting[] = [
  { field: "url", name: "BROKER_URL", deprecated: [] },
  { field: "backend", name: "CARROT_BACKEND", deprecated: [] },
  { field: "hostname", name: "BROKER_HOST", deprecated: ["AMQP_HOST", "AMQP_SERVER"] },
  { field: "port", name: "BROKER_PORT", deprecated: ["AMQP_PORT"] },
  { field: "userid", name: "BROKER_USER", deprecated: ["AMQP_USER"] },
  { field: "password", name: "BROKER_PASSWORD", deprecated: ["AMQP_PASSWORD"] },
  { field: "vhost", name: "BROKER_VHOST", deprecated: ["AMQP_VHOST"] },
  { field: "tls", name: "BROKER_USE_SSL", deprecated: [] },
  { field: "connectTimeout", name: "BROKER_CONNECTION_TIMEOUT", deprecated: [] },
];

/** Every name read from a source, primary and deprecated. */
export const SETTING_NAMES: readonly string[] = SETTINGS.flatMap((s) => [s.name, ...s.deprecated]);

/** The environment variable that names the settings module (the analogue of DJANGO_SETTINGS_MODULE). */
export const SETTINGS_MODULE_VARIABLE = "CARROT_SETTINGS_MODULE";
