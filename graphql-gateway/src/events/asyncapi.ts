import { EVENT_SCHEMA_VERSION, eventTypes } from "./schema.ts";

/**
 * The AsyncAPI 3.0 document of event delivery: the webhook POSTs the delivery service sends and the
 * graphql-ws stream the gateway serves. Generated, like the JSON Schema beside it: each message's payload
 * is a reference into `events.v<N>.json` (the zod schemas' output), so no event shape is written twice.
 * `npm run events:schema -w @carechain/gateway` writes both; asyncapi.test.ts keeps the committed file
 * current and valid against the AsyncAPI 3.0 specification.
 */
export function asyncApiDocument(): Record<string, unknown> {
  const schemaFile = `./events.v${EVENT_SCHEMA_VERSION}.json`;
  const message = (type: (typeof eventTypes)[number]) => ({
    name: type,
    title: `${type} event`,
    contentType: "application/json",
    payload: { $ref: `${schemaFile}#/$defs/${type}` },
  });
  const messages = Object.fromEntries(eventTypes.map((type) => [type, message(type)]));
  const webhookMessages = Object.fromEntries(
    eventTypes.map((type) => [
      type,
      { ...message(type), headers: { $ref: "#/components/schemas/StandardWebhookHeaders" } },
    ]),
  );
  const refs = (channel: string) =>
    eventTypes.map((type) => ({ $ref: `#/channels/${channel}/messages/${type}` }));
  return {
    asyncapi: "3.0.0",
    info: {
      title: "CareChain event delivery",
      version: `${EVENT_SCHEMA_VERSION}.0.0`,
      description: [
        "Events about patients that an organization may see, decided one by one by the gateway's policy",
        "as of the event and at delivery, and written to the patient's access log. Two ways to receive them:",
        "webhooks (a signed POST per event to the subscription's URL, following the Standard Webhooks",
        "specification, retried with exponential backoff for more than a day, in chain order per patient) and",
        "the graphql-ws stream `Subscription.events(after:)` with a durable cursor (the pull API",
        "`Query.events(after:, first:)` uses the same cursor). Every event has a stable `id`: drop duplicates",
        "by it. A retraction (`retracted: true`, id ending in ':retracted') undoes an event the chain dropped.",
      ].join(" "),
    },
    defaultContentType: "application/json",
    servers: {
      gateway: {
        host: "127.0.0.1:4000",
        pathname: "/graphql",
        protocol: "ws",
        description:
          "The CareChain gateway (graphql-ws subprotocol). Authenticate in connection_init with `{ authorization: 'Bearer <token or API key>' }`.",
      },
    },
    channels: {
      webhook: {
        address: null,
        title: "Webhook endpoint",
        description:
          "The receiver's URL given to createWebhookSubscription. Answer 2xx within the timeout to acknowledge; anything else is retried. Verify the signature with the subscription's secret (the @carechain/consumer package does), refuse stale timestamps and replayed requests, and answer 2xx to a resent event id without handling it twice (each retry is signed afresh: same id, new timestamp).",
        messages: webhookMessages,
      },
      events: {
        address: "Subscription.events",
        title: "Event stream",
        description:
          "`subscription { events(after: $cursor, types: [...], patients: [...]) { id type cursor ... data } }`: what was missed since the cursor, then live. Keep the last `cursor` received and resubscribe with it.",
        servers: [{ $ref: "#/servers/gateway" }],
        messages,
      },
    },
    operations: {
      deliverWebhook: {
        action: "send",
        title: "Deliver one event to a webhook subscription",
        channel: { $ref: "#/channels/webhook" },
        messages: refs("webhook"),
        bindings: { http: { method: "POST", bindingVersion: "0.3.0" } },
      },
      streamEvents: {
        action: "send",
        title: "Stream events to a graphql-ws subscriber",
        channel: { $ref: "#/channels/events" },
        messages: refs("events"),
      },
    },
    components: {
      schemas: {
        StandardWebhookHeaders: {
          type: "object",
          required: ["webhook-id", "webhook-timestamp", "webhook-signature"],
          properties: {
            "webhook-id": { type: "string", description: "The event's id (the body's `id`)." },
            "webhook-timestamp": {
              type: "string",
              pattern: "^[0-9]+$",
              description: "Seconds since the epoch when this attempt was signed.",
            },
            "webhook-signature": {
              type: "string",
              description:
                "Space-separated `v1,<base64 HMAC-SHA256 of '<id>.<timestamp>.<body>'>` (several during a secret rotation).",
            },
          },
        },
      },
    },
  };
}

/** Where the document is committed, and its text (stable: formatted, newline-terminated). */
export const asyncApiFile = new URL(`../../schemas/asyncapi.v${EVENT_SCHEMA_VERSION}.json`, import.meta.url);
export const asyncApiText = (): string => `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
