import { DecodeError, deserializeEnvelope, type EventEnvelope, RetryableError } from "@carechain/common";
import type { PoolClient } from "../database/pool.ts";
import { addressesStampedSetting, stampAddresses } from "./address-stamps.ts";
import {
  type AlertRef,
  announcementOf,
  defaultFinalityDepth,
  loadAnnouncements,
  loadClockCandidates,
} from "./clock.ts";
import { type DeadLetter, insertDeadLetters, reasonOf } from "./dead-letter.ts";
import { appendFeed } from "./feed.ts";
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
  /** Blocks on top of an alert before it is final (FINALITY_DEPTH; default 12). */
  finalityDepth?: number;
  /** Called after every write and before COMMIT (tests: crash here). */
  beforeCommit?: () => void | Promise<void>;
};

export type BatchResult = Omit<
  FoldResult,
  "events" | "undo" | "retractedEarlier" | "feed" | "deadLetters"
> & {
  deadLetters: number;
  /** Messages skipped because the stored offset was past them (redelivery). */
  skipped: number;
};

/**
 * Applies one partition batch in ONE transaction: the rows, the events log, the undo images, the dead
 * letters and the partition's next offset commit together or not at all. Messages below the stored offset
 * are skipped (redelivery after a crash or a group reset), so applying a batch twice changes nothing.
 *
 * When the batch fails for a reason that no retry can change (PostgreSQL data errors, class 22, and
 * integrity constraint violations, class 23), the batch is applied again with each failing event isolated
 * (bisected in savepoints), dead-lettered with its reason, and the rest applied: one event must not stall
 * its partition. Every other error (connection loss, serialization failure, events applied concurrently by
 * another consumer in a rebalance overlap) is thrown and the batch retried whole.
 */
export async function applyBatch(
  client: PoolClient,
  ctx: ApplyContext,
  input: BatchInput,
): Promise<BatchResult> {
  try {
    return await applyInTransaction(client, ctx, input, false);
  } catch (error) {
    if (!isPermanentDataError(error)) throw error;
    return await applyInTransaction(client, ctx, input, true);
  }
}

async function applyInTransaction(
  client: PoolClient,
  ctx: ApplyContext,
  input: BatchInput,
  isolate: boolean,
): Promise<BatchResult> {
  await client.query("BEGIN");
  try {
    // This transaction stamps the addresses of what it changes (stampAddresses below): the read-version
    // triggers need not count its writes as changes of everything (projection migration 0009).
    await client.query(`SET LOCAL ${addressesStampedSetting} = 'on'`);
    const stored = await lockOffset(client, ctx.schema, input.topic, input.partition);
    const fresh = input.messages.filter((message) => BigInt(message.offset) >= stored);
    const { decoded, deadLetters } = decodeAll(fresh);
    const applied: Applied = {
      applied: 0,
      retracted: 0,
      duplicates: 0,
      lastBlock: null,
      deadLetters,
      addresses: new Set(),
    };
    if (isolate) await applyBisecting(client, ctx, decoded, applied);
    else addTo(applied, await applyMessages(client, ctx, decoded));
    // By offset: a failing event was found after the fold's own dead letters of the same batch.
    const letters = applied.deadLetters.sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : 1));
    await insertDeadLetters(client, ctx.schema, input.topic, input.partition, letters);
    await saveOffset(client, ctx.schema, input.topic, input.partition, input.nextOffset);
    await stampAddresses(client, ctx.schema, applied.addresses);
    await ctx.beforeCommit?.();
    await client.query("COMMIT");
    return {
      applied: applied.applied,
      retracted: applied.retracted,
      duplicates: applied.duplicates,
      lastBlock: applied.lastBlock,
      deadLetters: letters.length,
      skipped: input.messages.length - fresh.length,
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Folds decoded messages (in offset order) and writes their rows, events and undo images. */
async function applyMessages(
  client: PoolClient,
  ctx: ApplyContext,
  decoded: readonly DecodedMessage[],
): Promise<FoldResult & { addresses: Set<string> }> {
  const fold = await foldInDatabase(client, ctx.schema, decoded, ctx.finalityDepth ?? defaultFinalityDepth);
  const inserted = await insertEvents(client, ctx.schema, fold.events);
  if (inserted !== fold.events.length) {
    throw new RetryableError("Some events of this batch were applied concurrently; retrying the batch.");
  }
  await markRetracted(client, ctx.schema, fold.retractedEarlier);
  await insertUndo(client, ctx.schema, fold.undo);
  await writeChanges(client, ctx.schema, ctx.columns, fold.changes);
  await appendFeed(client, ctx.schema, fold.feed);
  return fold;
}

type Applied = Pick<FoldResult, "applied" | "retracted" | "duplicates" | "lastBlock" | "deadLetters"> & {
  /** The addresses the applied events' rows hold, before or after (stamped before COMMIT). */
  addresses: Set<string>;
};

function addTo(total: Applied, part: FoldResult & { addresses: Set<string> }): void {
  for (const address of part.addresses) total.addresses.add(address);
  total.applied += part.applied;
  total.retracted += part.retracted;
  total.duplicates += part.duplicates;
  if (part.lastBlock !== null) total.lastBlock = Math.max(total.lastBlock ?? 0, part.lastBlock);
  total.deadLetters.push(...part.deadLetters);
}

/**
 * Applies `messages` in a savepoint; when that fails for good, halves them and tries each half in turn, so
 * the events keep their order and only the single events at fault are dead-lettered (k bad events among n
 * cost about k * log2(n) attempts). Each attempt reads the rows as the previous ones left them.
 *
 * The events that follow a dead-lettered one, of the same patient too, are still applied: each was
 * accepted by the contracts on its own, and holding them back would keep the projections behind the chain
 * for good, including revocations that must take effect (fail closed). The one missing event is in
 * dead_letters with its reason; once the cause is fixed, a rebuild replays the topic with it.
 */
async function applyBisecting(
  client: PoolClient,
  ctx: ApplyContext,
  messages: readonly DecodedMessage[],
  total: Applied,
): Promise<void> {
  if (messages.length === 0) return;
  await client.query("SAVEPOINT isolate");
  try {
    const part = await applyMessages(client, ctx, messages);
    await client.query("RELEASE SAVEPOINT isolate");
    addTo(total, part);
    return;
  } catch (error) {
    await client.query("ROLLBACK TO SAVEPOINT isolate");
    await client.query("RELEASE SAVEPOINT isolate");
    if (!isPermanentDataError(error)) throw error;
    if (messages.length === 1) {
      const { offset, key, value } = messages[0]!;
      total.deadLetters.push({ offset, key, value, reason: dataErrorReason(error) });
      return;
    }
  }
  const half = Math.ceil(messages.length / 2);
  await applyBisecting(client, ctx, messages.slice(0, half), total);
  await applyBisecting(client, ctx, messages.slice(half), total);
}

/** PostgreSQL errors that the same data raises on every retry: data exceptions and constraint violations. */
export function isPermanentDataError(error: unknown): error is Error & { code: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === "string" && /^2[23][0-9A-Z]{3}$/.test(code);
}

/** The dead letter's reason: PostgreSQL's message, code and constraint (never the row's values). */
function dataErrorReason(error: Error & { code: string }): string {
  const { constraint, table } = error as { constraint?: string; table?: string };
  const where = [table && `table ${table}`, constraint && `constraint ${constraint}`].filter(Boolean);
  return reasonOf(
    `Does not fit the projections: ${error.message} (SQLSTATE ${error.code}${where.map((w) => `, ${w}`).join("")}).`,
  );
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
  finalityDepth: number,
): Promise<FoldResult & { changes: ReturnType<WorkingSet["changes"]>; addresses: Set<string> }> {
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
  // The chain clocks' candidates: rows of earlier batches that time may have changed.
  const clocks = messages
    .map((m) => m.envelope)
    .filter(
      (e): e is EventEnvelope<"ChainClock"> => e.type === "ChainClock" && !e.retracted && !known.has(e.id),
    );
  const candidates = await loadClockCandidates(client, schema, clocks, finalityDepth);
  for (const [table, key] of candidates.keys) wanted.set(rowId(table, key), [table, key]);
  await loadInto(client, schema, rows, [...wanted.values()]);
  // What retracted clocks may have announced: the ids their rows hold now or held before a change.
  const announcements = new Set<string>();
  for (const entries of undoOf.values()) {
    for (const entry of entries) {
      for (const id of [
        announcementOf(entry.table_name, rows.get(entry.table_name, entry.key)),
        announcementOf(entry.table_name, entry.before),
      ])
        if (id !== null) announcements.add(id);
    }
  }
  const fold = foldBatch(messages, known, undoOf, rows, {
    finalityDepth,
    alerts: new Map<string, AlertRef>(candidates.alerts.map((alert) => [alert.id, alert])),
    announced: await loadAnnouncements(client, schema, [...announcements]),
  });
  return { ...fold, changes: rows.changes(), addresses: rows.changedAddresses() };
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
