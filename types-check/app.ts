// A small application as a user writes it, compiled once per
// moduleResolution by .ci/types-and-docs against the built packages (their
// package.json exports and typesVersions, as published).

import { memoryBackend } from "@carrot/backend-memory";
import {
  type CarrotErrorCode,
  Connection,
  ConnectionError,
  Consumer,
  type ConsumerOptions,
  type Message,
  Publisher,
} from "@carrot/core";
import type { Backend, BackendFactory, Capabilities } from "@carrot/core/backend";
import type { SettingsError } from "@carrot/django-style-config";

interface FeedImport {
  import_feed: string;
}

const factory: BackendFactory = memoryBackend;

export async function importFeeds(): Promise<string[]> {
  await using connection = new Connection({ backend: factory });
  const options: ConsumerOptions<FeedImport> = {
    queue: "feed",
    exchange: "feed",
    routingKey: "importer",
    retry: { attempts: 5, backoff: { initial: 500, jitter: "equal" }, exhausted: "failed-queue" },
  };
  const consumer = new Consumer<FeedImport>(connection, options);
  const seen: string[] = [];
  consumer.registerCallback(async (data: FeedImport, message: Message<FeedImport>) => {
    if (message.deliveryCount === 1 && message.failure === undefined && data.import_feed === "") {
      await message.retry({ delay: 1_000 });
      return;
    }
    seen.push(data.import_feed);
    await message.ack();
  });
  await consumer.declare();
  const consuming = consumer.wait({ limit: 1 });
  const publisher = new Publisher<FeedImport>(connection, {
    exchange: "feed",
    routingKey: "importer",
  });
  await publisher.send({ import_feed: "http://cnn.com/rss/edition.rss" }, { priority: 1 });
  await consuming;
  const backend: Backend = connection.backend;
  const capabilities: Capabilities = backend.capabilities;
  if (capabilities.maxMessageSize <= 0) throw new Error("no room for a message");
  return seen;
}

/** Each subclass narrows `code` to its own codes: this switch must stay exhaustive. */
export function advice(error: unknown): string {
  if (!(error instanceof ConnectionError)) return "not a connection problem";
  switch (error.code) {
    case "ERR_CARROT_AUTH":
      return "check the user name and password";
    case "ERR_CARROT_CONNECT_TIMEOUT":
    case "ERR_CARROT_CONNECTION":
    case "ERR_CARROT_CONNECTION_LOST":
      return "check that the broker runs";
    default: {
      const unreachable: never = error.code;
      return unreachable;
    }
  }
}

export function isAuthFailure(error: ConnectionError): boolean {
  // @ts-expect-error a misspelt code is a compile error, not a silent false
  return error.code === "ERR_CARROT_AUTHENTICATION";
}

// A package's own errors join the union where the package is imported.
export const settingsCode: CarrotErrorCode = "ERR_CARROT_SETTINGS";
export const settingsErrorCode: SettingsError["code"] = "ERR_CARROT_INVALID_SETTING";
