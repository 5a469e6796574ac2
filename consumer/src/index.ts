// @carechain/consumer: for the systems that receive CareChain events. Standard Webhooks signatures (the
// delivery service signs with the same module), a webhook receiver, and a pull client with a durable cursor.
export { type CursorStore, fileCursorStore, memoryCursorStore } from "./cursor-store.ts";
export {
  EventsRequestRefusedError,
  EventsUnavailableError,
  type WebhookRefusal,
  WebhookVerificationError,
} from "./errors.ts";
export type { EventType, FeedEvent } from "./event.ts";
export { EventPuller, type PulledEvent, type PullOptions, pullEvents } from "./pull.ts";
export {
  createWebhookHandler,
  createWebhookReceiver,
  type WebhookMeta,
  type WebhookOutcome,
  type WebhookReceiver,
  type WebhookReceiverOptions,
  type WebhookRequest,
} from "./receiver.ts";
export { ReplayGuard } from "./replay.ts";
export { memorySeenEvents, type SeenEvents } from "./seen.ts";
export {
  defaultToleranceSeconds,
  type HeadersLike,
  newWebhookSecret,
  signWebhook,
  type VerifyOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookMessage,
} from "./signature.ts";
