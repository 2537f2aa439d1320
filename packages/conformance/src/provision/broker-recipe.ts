/**
 * What provisioning knows of one broker: where its URL comes from, how to
 * tell that something answers its protocol, and how to start one in a
 * container or from the local binaries. `provision()` walks these in order;
 * a test replaces any of them to exercise one branch.
 */

/** The four ways to a broker, in the order they are tried. */
export const WAYS = ["environment", "default-port", "container", "local-binary"] as const;

/** One of the four ways: the variable, a broker already listening, testcontainers, the local binaries. */
export type Way = (typeof WAYS)[number];

/** A broker that is there for the tests, and how to let it go. */
export interface RunningBroker {
  /** The URL (RabbitMQ, Redis) or endpoint (SQS) the tests connect to. */
  readonly url: string;
  /** What was started and where (a container's image, a process's temporary folder). */
  readonly detail: string;
  /** Stops what was started and removes its files; nothing for a broker found running. */
  stop(): Promise<void>;
}

/** A way that did not give a broker says why, for the failure that lists all four. */
export type Attempt = RunningBroker | { readonly skipped: string };

/** How one broker is found or started. */
export interface BrokerRecipe {
  /** The broker's name in messages: "RabbitMQ", "Redis", "SQS". */
  readonly name: string;
  /** The variable that names a broker to use (`CARROT_AMQP_URL`, ...). */
  readonly envVar: string;
  /** Where a broker listens when one was installed with its defaults. */
  readonly defaultUrl: string;
  /** Whether something at `url` answers this broker's protocol; a reason when it does not. */
  answers(url: string): Promise<string | undefined>;
  /** Starts one through testcontainers, or says why not (no Docker engine, testcontainers not installed). */
  container(): Promise<Attempt>;
  /** Starts one from the local binaries into a temporary folder on free ports, or says why not. */
  localBinary(): Promise<Attempt>;
  /** What to install or run to get this broker, for the failure message. */
  readonly install: string;
}
