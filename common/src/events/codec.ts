import { DecodeError } from "../errors.ts";
import { parseEnvelope } from "./schema.ts";
import type { EventEnvelope } from "./types.ts";

/** Kafka message value: UTF-8 JSON of a validated envelope. */
export function serializeEnvelope(envelope: EventEnvelope): Buffer {
  return Buffer.from(JSON.stringify(parseEnvelope(envelope)));
}

export function deserializeEnvelope(value: Buffer | string | null | undefined): EventEnvelope {
  if (value === null || value === undefined) throw new DecodeError("Empty message: no envelope.");
  let json: unknown;
  try {
    json = JSON.parse(typeof value === "string" ? value : value.toString("utf8"));
  } catch (error) {
    throw new DecodeError("Message is not JSON.", { cause: error });
  }
  return parseEnvelope(json);
}

/** The retraction of an event whose block left the canonical chain. */
export function retractionOf(envelope: EventEnvelope): EventEnvelope {
  return { ...envelope, retracted: true };
}

/**
 * Kafka key: the patient the event concerns, so that each patient's history stays ordered in one
 * partition; events about no patient (a doctor's registration) are keyed by their first address.
 */
export function partitionKeyOf(envelope: EventEnvelope): string {
  const payload = envelope.payload as Record<string, unknown>;
  if (typeof payload.patient === "string") return payload.patient;
  for (const value of Object.values(payload)) {
    if (typeof value === "string" && /^0x[0-9a-f]{40}$/.test(value)) return value;
  }
  return envelope.contract;
}
