import { ENVELOPE_VERSION, type EventEnvelope, partitionKeyOf, serializeEnvelope } from "@carechain/common";
import { type Message, Partitioners } from "kafkajs";

/** Headers of an events-topic message, so that consumers can route or skip without parsing the value. */
export const EVENT_HEADERS = {
  type: "event-type",
  version: "envelope-version",
  retracted: "retracted",
} as const;

/**
 * The Kafka message of an envelope: keyed by patient (per-patient order), JSON value, typed headers. A chain
 * clock names its partition (one per partition of the topic) instead.
 */
export function envelopeMessage(envelope: EventEnvelope): Message {
  const clock = envelope.type === "ChainClock" ? envelope.payload.partition : undefined;
  return {
    key: clock === undefined ? partitionKeyOf(envelope) : `clock:${clock}`,
    ...(clock === undefined ? {} : { partition: clock }),
    value: serializeEnvelope(envelope),
    headers: {
      [EVENT_HEADERS.type]: envelope.type,
      [EVENT_HEADERS.version]: String(ENVELOPE_VERSION),
      [EVENT_HEADERS.retracted]: String(envelope.retracted),
    },
  };
}

const partitioner = Partitioners.DefaultPartitioner();
const metadataOf = new Map<number, Parameters<typeof partitioner>[0]["partitionMetadata"]>();

/**
 * The partition of `key` among `partitions`: kafkajs's default partitioner (murmur2, as the Java client), the
 * one ingest publishes with. The projector asks it which patients a partition's chain clock is about.
 */
export function partitionOfKey(key: string, partitions: number): number {
  let metadata = metadataOf.get(partitions);
  if (!metadata) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      replicas: [0],
      isr: [0],
      partitionErrorCode: 0,
    }));
    metadataOf.set(partitions, metadata);
  }
  return partitioner({ topic: "events", partitionMetadata: metadata, message: { key, value: null } });
}
