import type { BackendFactory, BackendOptions } from "@carrot/core/backend";
import { SqsBackend } from "./sqs-backend.js";
import { optionsFromBackendOptions } from "./sqs-options.js";

export { sqsQueueName } from "./queue-names.js";
export { SqsBackend } from "./sqs-backend.js";
export type { SqsBackendOptions } from "./sqs-options.js";

/** `sqs://[region]?endpoint=...&prefix=...`: see SqsBackendOptions and the README. */
export const sqsBackend: BackendFactory = {
  name: "sqs",
  schemes: ["sqs"],
  create(options: BackendOptions) {
    return new SqsBackend(optionsFromBackendOptions(options));
  },
};

export default sqsBackend;
