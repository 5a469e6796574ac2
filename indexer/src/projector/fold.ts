import { DecodeError, type EventEnvelope, retractionOf } from "@carechain/common";
import {
  announcementOf,
  applyClock,
  type ClockContext,
  defaultFinalityDepth,
  finalWhenRaised,
} from "./clock.ts";
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
 *
 * A chain clock is an event whose effects are the announcements it makes (clock.ts): they, not the clock,
 * go to the feed, and its retraction retracts them. A clock that announces nothing leaves no trace (its
 * retraction would have nothing to undo). An alert goes to the feed saying whether it is final already.
 */
export function foldBatch(
  messages: readonly DecodedMessage[],
  known: ReadonlyMap<string, boolean>,
  undoOf: ReadonlyMap<string, UndoEntry[]>,
  rows: WorkingSet,
  clock: ClockContext = { finalityDepth: defaultFinalityDepth, alerts: new Map(), announced: new Map() },
): FoldResult {
  type Status = "applied-earlier" | "applied-now" | "retracted";
  const status = new Map<string, Status>();
  for (const [id, retracted] of known) status.set(id, retracted ? "retracted" : "applied-earlier");
  const appliedNow = new Map<string, { row: Row; undo: UndoEntry[]; feed: string[] }>();
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
      let delivered: EventEnvelope[] = [event];
      try {
        project(event, rows);
        if (event.type === "ChainClock") delivered = applyClock(event, rows, clock);
        else if (event.type === "VitalsAlert") {
          const final = finalWhenRaised(event, clock.finalityDepth);
          if (final) rows.put("alerts", { ...rows.get("alerts", { event_id: event.id }), final });
          else clock.alerts.set(event.id, event);
          delivered = [{ ...event, final }];
        }
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
      const undo = rows.commit();
      result.lastBlock = Math.max(result.lastBlock ?? 0, event.blockNumber);
      result.applied++;
      if (event.type === "ChainClock" && undo.length === 0) continue;
      appliedNow.set(event.id, { row: eventRow(event), undo, feed: delivered.map((d) => d.id) });
      result.feed.push(...delivered);
      status.set(event.id, "applied-now");
    } else if (state === "applied-now") {
      const entry = appliedNow.get(event.id)!;
      rows.restore(entry.undo);
      entry.row.retracted = true;
      entry.undo = [];
      const dropped = new Set(entry.feed);
      result.feed = result.feed.filter((delivered) => !dropped.has(delivered.id));
      status.set(event.id, "retracted");
      result.retracted++;
    } else if (state === "applied-earlier") {
      const undo = undoOf.get(event.id) ?? [];
      if (event.type === "ChainClock") {
        // Its announcements, as the rows hold them now (reorgs retract newest first: as it left them).
        for (const entry of undo) {
          const id = announcementOf(entry.table_name, rows.get(entry.table_name, entry.key));
          const announced = id === null ? undefined : clock.announced.get(id);
          if (announced && id !== announcementOf(entry.table_name, entry.before))
            result.feed.push(retractionOf(announced));
        }
      } else if (event.type === "VitalsAlert") {
        // The retraction says what the alert was said to be: final or not.
        const key = { event_id: event.id };
        result.feed.push({
          ...event,
          final: rows.has("alerts", key) && rows.get("alerts", key)?.final === true,
        });
      } else result.feed.push(event);
      rows.restore(undo);
      result.retractedEarlier.push(event.id);
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
