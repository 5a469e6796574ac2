import { ident, type PoolClient } from "../database/pool.ts";
import { isTableName } from "./tables.ts";
import type { UndoEntry } from "./working-set.ts";

/**
 * A retraction (same envelope, `retracted: true`: its block left the canonical chain) undoes exactly what
 * its event did: the before-images recorded when the event was applied are restored, last change first,
 * and the event is marked retracted. Reorgs retract newest first, so the rows are as the event found them.
 * A retraction of an unknown or already-retracted event does nothing.
 */

/** The undo logs of applied (not retracted) events, by event id, in change order. */
export async function loadUndo(
  client: PoolClient,
  schema: string,
  eventIds: readonly string[],
): Promise<Map<string, UndoEntry[]>> {
  const out = new Map<string, UndoEntry[]>();
  if (eventIds.length === 0) return out;
  const { rows } = await client.query<UndoEntry>(
    `SELECT event_id, seq, table_name, key, before FROM ${ident(schema)}.event_undo
     WHERE event_id = ANY($1::text[]) ORDER BY event_id, seq`,
    [eventIds],
  );
  for (const row of rows) {
    if (!isTableName(row.table_name)) throw new Error(`Undo entry for unknown table ${row.table_name}`);
    const list = out.get(row.event_id);
    if (list) list.push(row);
    else out.set(row.event_id, [row]);
  }
  return out;
}

/** Marks events retracted and drops their undo logs (a second retraction is a no-op). */
export async function markRetracted(
  client: PoolClient,
  schema: string,
  eventIds: readonly string[],
): Promise<void> {
  if (eventIds.length === 0) return;
  await client.query(`UPDATE ${ident(schema)}.events SET retracted = true WHERE event_id = ANY($1::text[])`, [
    eventIds,
  ]);
  await client.query(`DELETE FROM ${ident(schema)}.event_undo WHERE event_id = ANY($1::text[])`, [eventIds]);
}
