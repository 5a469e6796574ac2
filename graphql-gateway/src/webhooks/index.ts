// @carechain/gateway/webhooks: the webhook URL rule (the gateway at creation, the delivery service before
// every send), the settings, the subscription and API key stores.
export { WebhookUrlError, type WebhookUrlFailure } from "../errors.ts";
export { defaultWebhooks, type WebhookOptions } from "../options.ts";
export {
  type ApiKey,
  type ApiKeyPrincipal,
  apiKeyStillValid,
  authenticateApiKey,
  createApiKey,
  isApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from "./api-keys.ts";
export { deliveryScopeRefusal, isDeliveryScoped } from "./scope.ts";
export {
  type CreateSubscriptionInput,
  createSubscription,
  deleteSubscription,
  deliveryLog,
  getSubscription,
  listSubscriptions,
  maxSubscriptionPatients,
  pauseSubscription,
  redeliverFrom,
  resumeSubscription,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookDeliveryStatus,
  type WebhookSettings,
  type WebhookStatus,
  type WebhookSubscription,
} from "./subscriptions.ts";
export {
  checkWebhookTarget,
  hostOf,
  isPrivateAddress,
  maxWebhookUrlLength,
  parseWebhookUrl,
  type ResolveHost,
  resolveHost,
} from "./url-rules.ts";
