import { type EventEnvelope, recordLinks } from "@carechain/common";

// What the subscriptions deliver (AlertEvent, RecordEvent in the subgraph schemas), from the feed's envelopes.

export function alertEvent(envelope: EventEnvelope<"VitalsAlert">) {
  const payload = envelope.payload;
  return {
    id: envelope.id,
    patient: payload.patient,
    device: payload.device,
    measuredAt: new Date(Number(payload.measuredAt) * 1000),
    systolic: payload.systolic,
    diastolic: payload.diastolic,
    recipients: payload.recipients,
    blockNumber: envelope.blockNumber,
    raisedAt: new Date(envelope.blockTimestamp * 1000),
    // The projector's word (FINALITY_DEPTH); without it, not final. The same as ALERT_RAISED's finality.
    finality: envelope.final ? "FINAL" : "PROVISIONAL",
    retracted: envelope.retracted,
  };
}

export function recordEvent(envelope: EventEnvelope<"RecordAdded">) {
  const payload = envelope.payload;
  return {
    id: envelope.id,
    recordId: payload.recordId,
    patient: payload.patient,
    author: payload.author,
    submitter: payload.submitter,
    typeCode: payload.recordType,
    contentHash: payload.contentHash,
    storagePointer: payload.storagePointer,
    version: payload.version,
    ...recordLinks(payload),
    blockNumber: envelope.blockNumber,
    addedAt: new Date(envelope.blockTimestamp * 1000),
    retracted: envelope.retracted,
  };
}
