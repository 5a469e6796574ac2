export { deserializeEnvelope, partitionKeyOf, retractionOf, serializeEnvelope } from "./codec.ts";
export { type ChainLog, decodeLog } from "./decode.ts";
export {
  alertFinal,
  type ClockBlock,
  chainClock,
  derivedEventId,
  endOfBlock,
  grantExpired,
  noContract,
  noTransaction,
} from "./derived.ts";
export { eventFeedChannel } from "./feed.ts";
export { isZeroHash, recordLinks } from "./records.ts";
export { eventId, eventNames, parseEnvelope } from "./schema.ts";
export {
  type ChainEventName,
  type DerivedEventName,
  type DerivedPayloads,
  derivedEventNames,
  ENVELOPE_VERSION,
  type EventEnvelope,
  type EventName,
  type EventPayload,
  isDerived,
} from "./types.ts";
