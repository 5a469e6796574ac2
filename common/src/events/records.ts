import type { EventPayload } from "./types.ts";

type RecordIds = Pick<EventPayload<"RecordAdded">, "recordId" | "rootRecordId" | "previousRecordId">;

/**
 * A RecordAdded's links as readers see them: the contract writes the zero hash for "none", so an original
 * record is its own root and has no previous version.
 */
export function recordLinks(payload: RecordIds): {
  rootRecordId: RecordIds["recordId"];
  previousRecordId: RecordIds["previousRecordId"] | null;
} {
  return {
    rootRecordId: isZeroHash(payload.rootRecordId) ? payload.recordId : payload.rootRecordId,
    previousRecordId: isZeroHash(payload.previousRecordId) ? null : payload.previousRecordId,
  };
}

/** The zero hash (any number of zero digits), which the contracts write for "no value". */
export function isZeroHash(value: string): boolean {
  return /^0x0*$/.test(value);
}
