import { DecodeError, type EventEnvelope } from "@carechain/common";
import type { DeadLetter } from "./dead-letter.ts";
import { reasonOf } from "./dead-letter.ts";
import { eventRow, project } from "./projections/index.ts";
import type { Row } from "./tables.ts";
import type { UndoEntry, WorkingSet } from "./working-set.ts";

export type DecodedMessage = {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  envelope: EventEnvelope;
};

export type FoldResult = {
  /** `events` rows of newly applied events (retracted already when retracted later in the batch). */
  events: Row[];
  /** Undo logs of the newly applied events that stay applied. */
  undo: UndoEntry[];
  /** Events applied in earlier batches that this batch retracted. */
  retractedEarlier: string[];
  /**
   * What live deliveries see, in log order: each newly applied event, and each retraction of an event
   * applied in an earlier batch (an event applied and retracted within the batch was never visible).
   */
  feed: EventEnvelope[];
  deadLetters: DeadLetter[];
  applied: number;
  retracted: number;
  duplicates: number;
  lastBlock: number | null;
};

/**
 * Applies a partition's messages, in offset order, to the working set. `known`: events already in the
 * table (id -> retracted); `undoOf`: their undo logs. A duplicate id is skipped; only newly applied events
 * have effects. Pure: the caller loads the inputs and writes the result in one transaction.
 */
export function foldBatch(
  messages: readonly DecodedMessage[],
  known: ReadonlyMap<string, boolean>,
  undoOf: ReadonlyMap<string, UndoEntry[]>,
  rows: WorkingSet,
): FoldResult {
  type Status = "applied-earlier" | "applied-now" | "retracted";
  const status = new Map<string, Status>();
  for (const [id, retracted] of known) status.set(id, retracted ? "retracted" : "applied-earlier");
  const appliedNow = new Map<string, { row: Row; undo: UndoEntry[] }>();
  const result: FoldResult = {
    events: [],
    undo: [],
    retractedEarlier: [],
    feed: [],
    deadLetters: [],
    applied: 0,
    retracted: 0,
    duplicates: 0,
    lastBlock: null,
  };

  for (const message of messages) {
    const event = message.envelope;
    const state = status.get(event.id);
    if (!event.retracted) {
      if (state) {
        result.duplicates++;
        continue;
      }
      rows.begin(event.id);
      try {
        project(event, rows);
      } catch (error) {
        rows.rollback();
        if (!(error instanceof DecodeError)) throw error;
        result.deadLetters.push({
          offset: message.offset,
          key: message.key,
          value: message.value,
          reason: reasonOf(error),
        });
        continue;
      }
      appliedNow.set(event.id, { row: eventRow(event), undo: rows.commit() });
      result.feed.push(event);
      status.set(event.id, "applied-now");
      result.applied++;
      result.lastBlock = Math.max(result.lastBlock ?? 0, event.blockNumber);
    } else if (state === "applied-now") {
      const entry = appliedNow.get(event.id)!;
      rows.restore(entry.undo);
      entry.row.retracted = true;
      entry.undo = [];
      result.feed = result.feed.filter((delivered) => delivered.id !== event.id);
      status.set(event.id, "retracted");
      result.retracted++;
    } else if (state === "applied-earlier") {
      rows.restore(undoOf.get(event.id) ?? []);
      result.retractedEarlier.push(event.id);
      result.feed.push(event);
      status.set(event.id, "retracted");
      result.retracted++;
    } else {
      result.duplicates++; // retraction of an unknown or already-retracted event: nothing to undo
    }
  }
  for (const { row, undo } of appliedNow.values()) {
    result.events.push(row);
    result.undo.push(...undo);
  }
  return result;
}
