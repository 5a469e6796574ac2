import { keyOf, type Row, rowId, type TableName } from "./tables.ts";

export type UndoEntry = {
  event_id: string;
  seq: number;
  table_name: TableName;
  key: Row;
  before: Row | null;
};

/** `loaded`: the row as the database held it before this batch. */
type Slot = { table: TableName; key: Row; value: Row | null; loaded: Row | null; dirty: boolean };

/**
 * The rows one batch reads and writes, held in memory: loaded once (one query), changed by the events in
 * offset order, then written back once per table. Because the fold runs over this working set, an event sees
 * the effects of the events before it in the same batch (a record, then its amendment). While an event is
 * applied, the first change of each row records the row's before-image: the event's undo log.
 */
export class WorkingSet {
  private readonly slots = new Map<string, Slot>();
  private undo: UndoEntry[] | null = null;
  private eventId = "";

  /** Seeds a row as read from the database (`null`: known not to exist). */
  seed(table: TableName, key: Row, value: Row | null): void {
    this.slots.set(rowId(table, key), { table, key, value, loaded: value, dirty: false });
  }

  has(table: TableName, key: Row): boolean {
    return this.slots.has(rowId(table, key));
  }

  get(table: TableName, key: Row): Row | null {
    const slot = this.slots.get(rowId(table, key));
    if (!slot) throw new Error(`Row ${rowId(table, key)} was not loaded before use`);
    return slot.value;
  }

  /** The existing rows of `table` held (loaded or written), in no particular order. */
  rowsOf(table: TableName): Row[] {
    const out: Row[] = [];
    for (const slot of this.slots.values()) if (slot.table === table && slot.value) out.push(slot.value);
    return out;
  }

  /** Replaces (or, with null, deletes) a row; records its before-image for the current event. */
  put(table: TableName, value: Row | null, key: Row = keyOf(table, value ?? {})): void {
    const id = rowId(table, key);
    const slot = this.slots.get(id);
    if (!slot) throw new Error(`Row ${id} was not loaded before use`);
    if (this.undo && !this.undo.some((entry) => rowId(entry.table_name, entry.key) === id)) {
      this.undo.push({
        event_id: this.eventId,
        seq: this.undo.length,
        table_name: table,
        key,
        before: slot.value,
      });
    }
    slot.value = value;
    slot.dirty = true;
  }

  /** Starts recording the undo log of `eventId`. */
  begin(eventId: string): void {
    this.eventId = eventId;
    this.undo = [];
  }

  /** Stops recording and returns the event's undo log. */
  commit(): UndoEntry[] {
    const undo = this.undo ?? [];
    this.undo = null;
    return undo;
  }

  /** Undoes the current event's changes (it failed half way) and stops recording. */
  rollback(): void {
    const undo = this.commit();
    this.restore(undo);
  }

  /** Restores before-images, last change first (a retraction). Records nothing. */
  restore(undo: readonly UndoEntry[]): void {
    const recording = this.undo;
    this.undo = null;
    for (const entry of [...undo].reverse()) this.put(entry.table_name, entry.before, entry.key);
    this.undo = recording;
  }

  /**
   * Every address a written row holds, as the database held it before the batch or as the batch leaves it
   * (a doctor dropped from a list must be told as much as one added): what the read versions stamp.
   */
  changedAddresses(): Set<string> {
    const out = new Set<string>();
    for (const slot of this.slots.values()) {
      if (!slot.dirty) continue;
      for (const row of [slot.key, slot.loaded, slot.value]) if (row) addressesIn(row, out);
    }
    return out;
  }

  /** Rows to write back per table: final values to upsert and keys to delete. */
  changes(): Map<TableName, { upserts: Row[]; deletes: Row[] }> {
    const out = new Map<TableName, { upserts: Row[]; deletes: Row[] }>();
    for (const slot of this.slots.values()) {
      if (!slot.dirty) continue;
      let entry = out.get(slot.table);
      if (!entry) {
        entry = { upserts: [], deletes: [] };
        out.set(slot.table, entry);
      }
      if (slot.value) entry.upserts.push(slot.value);
      else entry.deletes.push(slot.key);
    }
    return out;
  }
}

const addressShape = /^0x[0-9a-f]{40}$/;

/** Adds the values of `row` (and of its arrays) that are addresses, as the projections store them. */
function addressesIn(row: Row, out: Set<string>): void {
  for (const value of Object.values(row)) {
    if (typeof value === "string") {
      if (value.length === 42 && addressShape.test(value)) out.add(value);
    } else if (Array.isArray(value)) {
      for (const item of value) if (typeof item === "string" && addressShape.test(item)) out.add(item);
    }
  }
}
