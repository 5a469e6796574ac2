export { createKafkaClient, type KafkaClientOptions } from "./client.ts";
export { type EnsureTopicsOptions, ensureTopics } from "./ensure-topics.ts";
export { EVENT_HEADERS, envelopeMessage, partitionOfKey } from "./messages.ts";
export { type ReadToEndOptions, readToEnd } from "./read-to-end.ts";
export { type TopicNames, topicNames } from "./topics.ts";
