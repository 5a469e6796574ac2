export { deserializeEnvelope, partitionKeyOf, retractionOf, serializeEnvelope } from "./codec.ts";
export { type ChainLog, decodeLog } from "./decode.ts";
export { eventFeedChannel } from "./feed.ts";
export { isZeroHash, recordLinks } from "./records.ts";
export { eventId, eventNames, parseEnvelope } from "./schema.ts";
export { ENVELOPE_VERSION, type EventEnvelope, type EventName, type EventPayload } from "./types.ts";
