import type { BackendFactory, BackendOptions } from "@carrot/core/backend";
import { AmqplibBackend } from "./amqplib-backend.js";

export type { AmqplibTransportOptions } from "./amqp-endpoints.js";
export { AmqplibBackend } from "./amqplib-backend.js";
export type { AmqplibOptions } from "./transport-settings.js";

/** Serves `amqp://` and `amqps://` URLs (and carrot's hostname/userid/password/vhost fields). */
export const amqplibBackend: BackendFactory = {
  name: "amqplib",
  schemes: ["amqp", "amqps"],
  create(options: BackendOptions) {
    return new AmqplibBackend(options);
  },
};

export default amqplibBackend;
