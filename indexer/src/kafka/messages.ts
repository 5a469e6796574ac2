import { ENVELOPE_VERSION, type EventEnvelope, partitionKeyOf, serializeEnvelope } from "@carechain/common";
import type { Message } from "kafkajs";

/** Headers of an events-topic message, so that consumers can route or skip without parsing the value. */
export const EVENT_HEADERS = {
  type: "event-type",
  version: "envelope-version",
  retracted: "retracted",
} as const;

/** The Kafka message of an envelope: keyed by patient (per-patient order), JSON value, typed headers. */
export function envelopeMessage(envelope: EventEnvelope): Message {
  return {
    key: partitionKeyOf(envelope),
    value: serializeEnvelope(envelope),
    headers: {
      [EVENT_HEADERS.type]: envelope.type,
      [EVENT_HEADERS.version]: String(ENVELOPE_VERSION),
      [EVENT_HEADERS.retracted]: String(envelope.retracted),
    },
  };
}
