export {
  type DeliveryOptions,
  defaultRetrySchedule,
  deliveryEnvironment,
  deliveryEnvSchema,
  deliveryOptionsFromEnv,
  parseRetrySchedule,
} from "./config.ts";
export { type DeliveryMetrics, deliveryMetrics } from "./metrics.ts";
export { type FillOutcome, OutboxFiller } from "./outbox/fill.ts";
export { SenderPool } from "./senders/pool.ts";
export { createPoster, type Poster, type PostResult } from "./senders/post.ts";
export { type DeliveryService, type ServiceOptions, startDeliveryService } from "./service.ts";
