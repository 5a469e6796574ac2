// The public event as webhooks and Query.events deliver it. Its one definition is the gateway's zod schema
// (graphql-gateway/src/events/schema.ts; JSON Schema in graphql-gateway/schemas/events.v1.json): imported as
// types only, so this package carries no gateway code at run time.
export type { EventType, FeedEvent } from "@carechain/gateway/events";
