/**
 * The committed event feed: the projector appends every event it applies (and every retraction) to the
 * `event_feed` table of its generation schema, in commit order, and NOTIFYs this channel (payload: the
 * schema) after COMMIT; readers (the gateway's subscriptions) follow the table by `seq`. The projector
 * writes it (indexer/src/projector/feed.ts); this is the one name both sides use.
 */
export const eventFeedChannel = "carechain_event_feed";
