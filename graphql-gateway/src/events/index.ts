// The delivered events (@carechain/gateway/events), for the channels outside the gateway process (the
// webhook delivery service): the committed feed, the reader's filter, the one delivery decision, the
// public event. The same code Query.events and Subscription.events run; imported, never copied.
export { type EventsArgs, type Filter, filterOf, matches } from "./api.ts";
export { decodeEventCursor, type EventCursor, encodeEventCursor } from "./cursor.ts";
export { admitEvent, deliveryRequestId, type PolicyAt, stillAdmitted } from "./delivery.ts";
export {
  type FeedItem,
  type FeedPage,
  type FeedPageRequest,
  feedEnd,
  feedOriginSql,
  readFeedPage,
  readFeedPages,
} from "./feed-log.ts";
export { type FeedListener, listenToFeed } from "./listen.ts";
export { type EventType, eventTypeOf, eventTypes, type FeedEvent, sourceOf, toFeedEvent } from "./schema.ts";
