import type { EventEnvelope } from "@carechain/common";

// What the subscriptions deliver (AlertEvent, RecordEvent in the subgraph schemas), from the feed's envelopes.

const zeroHash = `0x${"0".repeat(64)}`;

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
    rootRecordId: payload.rootRecordId === zeroHash ? payload.recordId : payload.rootRecordId,
    previousRecordId: payload.previousRecordId === zeroHash ? null : payload.previousRecordId,
    blockNumber: envelope.blockNumber,
    addedAt: new Date(envelope.blockTimestamp * 1000),
    retracted: envelope.retracted,
  };
}
