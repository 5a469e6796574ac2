import { DecodeError, deserializeEnvelope, RetryableError } from "@carechain/common";
import type { PoolClient } from "../database/pool.ts";
import { type DeadLetter, insertDeadLetters, reasonOf } from "./dead-letter.ts";
import { type DecodedMessage, type FoldResult, foldBatch } from "./fold.ts";
import { lockOffset, saveOffset } from "./offsets.ts";
import { keysOf } from "./projections/index.ts";
import { loadUndo, markRetracted } from "./retractions.ts";
import { insertEvents, insertUndo, knownEvents, loadRows, writeChanges } from "./sql.ts";
import { projectionTables, type Row, rowId, type TableName } from "./tables.ts";
import { WorkingSet } from "./working-set.ts";

export type BatchMessage = { offset: string; key: Buffer | null; value: Buffer | null };

export type BatchInput = {
  topic: string;
  partition: number;
  messages: readonly BatchMessage[];
  /** Offset to resume from once this batch is applied (the batch's last offset + 1, markers included). */
  nextOffset: bigint;
};

export type ApplyContext = {
  schema: string;
  /** Column names per table of the schema (for upserts). */
  columns: ReadonlyMap<string, readonly string[]>;
  /** Called after every write and before COMMIT (tests: crash here). */
  beforeCommit?: () => void | Promise<void>;
};

export type BatchResult = Omit<FoldResult, "events" | "undo" | "retractedEarlier" | "deadLetters"> & {
  deadLetters: number;
  /** Messages skipped because the stored offset was past them (redelivery). */
  skipped: number;
};

/** Thrown when another consumer applied some of the same events concurrently (a rebalance overlap). */
export class ConcurrentApplyError extends RetryableError {}

/**
 * Applies one partition batch in ONE transaction: the rows, the events log, the undo images, the dead
 * letters and the partition's next offset commit together or not at all. Messages below the stored offset
 * are skipped (redelivery after a crash or a group reset), so applying a batch twice changes nothing.
 */
export async function applyBatch(
  client: PoolClient,
  ctx: ApplyContext,
  input: BatchInput,
): Promise<BatchResult> {
  await client.query("BEGIN");
  try {
    const stored = await lockOffset(client, ctx.schema, input.topic, input.partition);
    const fresh = input.messages.filter((message) => BigInt(message.offset) >= stored);
    const { decoded, deadLetters } = decodeAll(fresh);
    const fold = await foldInDatabase(client, ctx.schema, decoded);

    const inserted = await insertEvents(client, ctx.schema, fold.events);
    if (inserted !== fold.events.length) {
      throw new ConcurrentApplyError(
        "Some events of this batch were applied concurrently; retrying the batch.",
      );
    }
    await markRetracted(client, ctx.schema, fold.retractedEarlier);
    await insertUndo(client, ctx.schema, fold.undo);
    await writeChanges(client, ctx.schema, ctx.columns, fold.changes);
    const letters = [...deadLetters, ...fold.deadLetters];
    await insertDeadLetters(client, ctx.schema, input.topic, input.partition, letters);
    await saveOffset(client, ctx.schema, input.topic, input.partition, input.nextOffset);
    await ctx.beforeCommit?.();
    await client.query("COMMIT");
    return {
      applied: fold.applied,
      retracted: fold.retracted,
      duplicates: fold.duplicates,
      lastBlock: fold.lastBlock,
      deadLetters: letters.length,
      skipped: input.messages.length - fresh.length,
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

function decodeAll(messages: readonly BatchMessage[]): {
  decoded: DecodedMessage[];
  deadLetters: DeadLetter[];
} {
  const decoded: DecodedMessage[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const message of messages) {
    try {
      decoded.push({ ...message, envelope: deserializeEnvelope(message.value) });
    } catch (error) {
      // deserializeEnvelope throws DecodeError only; anything else is a bug and fails the batch.
      if (!(error instanceof DecodeError)) throw error;
      deadLetters.push({ ...message, reason: reasonOf(error) });
    }
  }
  return { decoded, deadLetters };
}

/** Loads what the fold needs (known ids, undo logs, rows) and runs it. */
async function foldInDatabase(
  client: PoolClient,
  schema: string,
  messages: readonly DecodedMessage[],
): Promise<FoldResult & { changes: ReturnType<WorkingSet["changes"]> }> {
  const ids = [...new Set(messages.map((message) => message.envelope.id))];
  const known = await knownEvents(client, schema, ids);
  const retractable = ids.filter((id) => known.get(id) === false);
  const retractionIds = new Set(messages.filter((m) => m.envelope.retracted).map((m) => m.envelope.id));
  const undoOf = await loadUndo(
    client,
    schema,
    retractable.filter((id) => retractionIds.has(id)),
  );

  const rows = new WorkingSet();
  const wanted = new Map<string, [TableName, Row]>();
  for (const { envelope } of messages) {
    if (envelope.retracted || known.has(envelope.id)) continue;
    for (const [table, key] of keysOf(envelope)) {
      // A new event's own rows (keyed by its id) cannot exist yet: no need to read them.
      if ("byEvent" in projectionTables[table]) rows.seed(table, key, null);
      else wanted.set(rowId(table, key), [table, key]);
    }
  }
  for (const entries of undoOf.values()) {
    for (const entry of entries)
      wanted.set(rowId(entry.table_name, entry.key), [entry.table_name, entry.key]);
  }
  await loadInto(client, schema, rows, [...wanted.values()]);
  const fold = foldBatch(messages, known, undoOf, rows);
  return { ...fold, changes: rows.changes() };
}

async function loadInto(
  client: PoolClient,
  schema: string,
  rows: WorkingSet,
  wanted: Array<[TableName, Row]>,
) {
  const byTable = new Map<TableName, Row[]>();
  for (const [table, key] of wanted) {
    const list = byTable.get(table);
    if (list) list.push(key);
    else byTable.set(table, [key]);
    rows.seed(table, key, null);
  }
  for (const { table, row } of await loadRows(client, schema, byTable)) {
    const key: Row = {};
    for (const column of projectionTables[table].key) key[column] = row[column];
    rows.seed(table, key, row);
  }
}
