import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  type SQSClient,
  TagQueueCommand,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import {
  assertSameQueue,
  type BindingDeclaration,
  clientError,
  DeclarationConflictError,
  type ExchangeType,
  InvalidOptionsError,
  NotFoundError,
  type QueueDeclaration,
} from "@carrot/core/backend";
import { isMissingQueue } from "./aws-errors.js";
import { isFifoName, sqsQueueName } from "./queue-names.js";
import {
  bindingTagKeys,
  bindingTags,
  declarationTags,
  MAX_TAGS,
  parseQueueTags,
} from "./queue-tags.js";
import type { ResolvedSqsOptions } from "./sqs-options.js";

/** SQS keeps messages 4 days unless the queue says otherwise. */
const DEFAULT_RETENTION_SECONDS = 345_600;

/** What this process knows of one carrot queue on SQS. */
export interface QueueInfo {
  name: string;
  url: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
  /** The queue's MaximumMessageSize: what a message must fit, attributes included. */
  maxMessageSize: number;
  /** The queue's MessageRetentionPeriod, in seconds: SQS deletes older messages, held ones too. */
  retentionSeconds: number;
  /** The carrot declaration from the queue's tags (undefined for a queue carrot did not create). */
  declaration?: QueueDeclaration;
}

/**
 * Carrot queues on SQS: declare (CreateQueue, then the declaration tag, so
 * that every process sees the same arguments), look up (cached per
 * process), delete, and the binding tags on them.
 */
export class QueueDirectory {
  readonly #client: SQSClient;
  readonly #options: ResolvedSqsOptions;
  readonly #known = new Map<string, Promise<QueueInfo>>();
  /** The same, once resolved: lets a send to a known queue go out without waiting a turn. */
  readonly #resolved = new Map<string, QueueInfo>();

  constructor(client: SQSClient, options: ResolvedSqsOptions) {
    this.#client = client;
    this.#options = options;
  }

  sqsName(name: string): string {
    return sqsQueueName(name, this.#options.prefix);
  }

  /** Creates the queue, or checks the existing one; `tags` go with a CreateQueue (request-reply's seen tag). */
  async declare(declaration: QueueDeclaration, tags?: Record<string, string>): Promise<QueueInfo> {
    const known = await this.#known.get(declaration.name)?.catch(() => undefined);
    if (known?.declaration) {
      assertSameQueue(known.declaration, declaration);
      return known;
    }
    const QueueName = this.sqsName(declaration.name);
    const Attributes = await this.#attributes(declaration);
    let url: string;
    try {
      url = (await this.#client.send(new CreateQueueCommand({ QueueName, Attributes, tags })))
        .QueueUrl as string;
    } catch (error) {
      if (/QueueNameExists|QueueAlreadyExists/.test((error as Error).name)) {
        throw clientError(
          DeclarationConflictError,
          `queue '${declaration.name}' (SQS '${QueueName}') already exists with different SQS attributes; declare it with the same arguments, or delete it first`,
          error,
        );
      }
      throw error;
    }
    const { Tags } = await this.#client.send(new ListQueueTagsCommand({ QueueUrl: url }));
    const existing = parseQueueTags(Tags).declaration;
    if (!existing) {
      await this.#client.send(
        new TagQueueCommand({ QueueUrl: url, Tags: declarationTags(declaration) }),
      );
    } else if (existing.name !== declaration.name) {
      throw new InvalidOptionsError(
        `queue names '${declaration.name}' and '${existing.name}' map to the same SQS queue '${QueueName}' (a hash collision of long names); rename one of them`,
      );
    } else {
      assertSameQueue(existing, declaration);
    }
    const info = this.#info(declaration.name, url, Attributes, existing ?? declaration);
    this.#known.set(declaration.name, Promise.resolve(info));
    this.#resolved.set(declaration.name, info);
    return info;
  }

  /** The queue, or NotFoundError when there is no such SQS queue. */
  info(name: string): Promise<QueueInfo> {
    let known = this.#known.get(name);
    if (!known) {
      known = this.#lookUp(name);
      this.#known.set(name, known);
      known.then(
        (info) => this.#resolved.set(name, info),
        () => this.#known.delete(name),
      );
    }
    return known;
  }

  /** The queue if this process already knows it, without a round trip. */
  cached(name: string): QueueInfo | undefined {
    return this.#resolved.get(name);
  }

  /** Forgets a queue that turned out to be gone. */
  forget(name: string): void {
    this.#known.delete(name);
    this.#resolved.delete(name);
  }

  async delete(name: string): Promise<void> {
    const url = await this.info(name).then(
      (info) => info.url,
      () => undefined,
    );
    this.forget(name);
    if (url === undefined) return; // deleting a missing queue is a no-op, as in AMQP
    await this.#client.send(new DeleteQueueCommand({ QueueUrl: url })).catch((error: unknown) => {
      if (!isMissingQueue(error)) throw error;
    });
  }

  async bind(binding: BindingDeclaration, exchangeType: ExchangeType): Promise<void> {
    const { url } = await this.info(binding.queue);
    const tags = bindingTags(binding, exchangeType);
    const { Tags } = await this.#client.send(new ListQueueTagsCommand({ QueueUrl: url }));
    const current = Tags ?? {};
    if (Object.keys({ ...current, ...tags }).length > MAX_TAGS) {
      throw new InvalidOptionsError(
        `queue '${binding.queue}' has too many bindings for SQS's ${MAX_TAGS} tags per queue; bind fewer keys (a topic pattern can replace several)`,
      );
    }
    await this.#client.send(new TagQueueCommand({ QueueUrl: url, Tags: tags }));
  }

  async unbind(binding: BindingDeclaration): Promise<void> {
    const { url } = await this.info(binding.queue);
    const { Tags } = await this.#client.send(new ListQueueTagsCommand({ QueueUrl: url }));
    const keys = bindingTagKeys(binding, Tags ?? {});
    if (keys.length > 0)
      await this.#client.send(new UntagQueueCommand({ QueueUrl: url, TagKeys: keys }));
  }

  async #lookUp(name: string): Promise<QueueInfo> {
    let url: string;
    try {
      url = (await this.#client.send(new GetQueueUrlCommand({ QueueName: this.sqsName(name) })))
        .QueueUrl as string;
    } catch (error) {
      if (isMissingQueue(error))
        throw clientError(
          NotFoundError,
          `no queue named '${name}' (SQS '${this.sqsName(name)}'): declare it first`,
          error,
        );
      throw error;
    }
    const [{ Attributes }, { Tags }] = await Promise.all([
      this.#client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            "MaximumMessageSize",
            "ContentBasedDeduplication",
            "MessageRetentionPeriod",
          ],
        }),
      ),
      this.#client.send(new ListQueueTagsCommand({ QueueUrl: url })),
    ]);
    return this.#info(name, url, Attributes ?? {}, parseQueueTags(Tags).declaration);
  }

  #info(
    name: string,
    url: string,
    attributes: Record<string, string>,
    declaration: QueueDeclaration | undefined,
  ): QueueInfo {
    return {
      name,
      url,
      fifo: isFifoName(name),
      contentBasedDeduplication: attributes.ContentBasedDeduplication === "true",
      maxMessageSize: Number(attributes.MaximumMessageSize ?? 262_144),
      retentionSeconds: Number(attributes.MessageRetentionPeriod ?? DEFAULT_RETENTION_SECONDS),
      declaration,
    };
  }

  /**
   * SQS attributes from the declaration: `x-sqs-<Attribute>` arguments go to
   * SQS as they are; `x-max-receive-count` with `x-dead-letter-queue` (a carrot
   * queue name) become the RedrivePolicy.
   */
  async #attributes(declaration: QueueDeclaration): Promise<Record<string, string>> {
    const args = declaration.arguments as Record<string, unknown>;
    const attributes: Record<string, string> = {
      MaximumMessageSize: String(this.#options.maxMessageSize),
      VisibilityTimeout: String(this.#options.visibilityTimeout),
    };
    if (isFifoName(declaration.name)) attributes.FifoQueue = "true";
    for (const [key, value] of Object.entries(args)) {
      if (key.startsWith("x-sqs-") && value !== undefined) attributes[key.slice(6)] = String(value);
    }
    const maxReceiveCount = args["x-max-receive-count"];
    const deadLetterQueue = args["x-dead-letter-queue"];
    if (maxReceiveCount !== undefined) {
      if (
        typeof deadLetterQueue !== "string" ||
        !Number.isInteger(maxReceiveCount) ||
        (maxReceiveCount as number) < 1
      ) {
        throw new InvalidOptionsError(
          `queue '${declaration.name}': x-max-receive-count needs a whole number >= 1 and x-dead-letter-queue, the name of a declared queue`,
        );
      }
      const target = await this.info(deadLetterQueue);
      const { Attributes } = await this.#client.send(
        new GetQueueAttributesCommand({ QueueUrl: target.url, AttributeNames: ["QueueArn"] }),
      );
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: Attributes?.QueueArn,
        maxReceiveCount: String(maxReceiveCount),
      });
    }
    return attributes;
  }
}
