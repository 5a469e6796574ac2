import { ident, type PoolClient } from "../database/pool.ts";
import { projectionTables, type Row, type TableName } from "./tables.ts";
import type { UndoEntry } from "./working-set.ts";

/**
 * Set-based reads and writes of the projection tables: one statement per table per batch, rows travelling
 * as one jsonb array (jsonb_populate_recordset gives them the table's row type, text[] and timestamptz
 * included), so a batch of thousands of events costs a handful of round trips.
 */

const keyColumns = (table: TableName) => projectionTables[table].key;
const keyRecord = (table: TableName) =>
  keyColumns(table)
    .map((column) => `${ident(column)} text`)
    .join(", ");
const keyJoin = (table: TableName, left: string, right: string) =>
  keyColumns(table)
    .map((column) => `${left}.${ident(column)} = ${right}.${ident(column)}`)
    .join(" AND ");

/** Reads the rows with the given keys of several tables in one query. */
export async function loadRows(
  client: PoolClient,
  schema: string,
  keys: ReadonlyMap<TableName, Row[]>,
): Promise<Array<{ table: TableName; row: Row }>> {
  const parts: string[] = [];
  const params: string[] = [];
  for (const [table, tableKeys] of keys) {
    if (tableKeys.length === 0) continue;
    params.push(JSON.stringify(tableKeys));
    parts.push(
      `SELECT ${params.length}::int AS t, to_jsonb(x) AS row FROM ${ident(schema)}.${ident(table)} x
       JOIN jsonb_to_recordset($${params.length}::jsonb) AS k(${keyRecord(table)}) ON ${keyJoin(table, "x", "k")}`,
    );
  }
  if (parts.length === 0) return [];
  const tables = [...keys.keys()].filter((table) => keys.get(table)!.length > 0);
  const { rows } = await client.query<{ t: number; row: Row }>(parts.join("\nUNION ALL\n"), params);
  return rows.map(({ t, row }) => ({ table: tables[t - 1]!, row }));
}

/** Deletes, then upserts, the final state of the rows a batch changed. */
export async function writeChanges(
  client: PoolClient,
  schema: string,
  columns: ReadonlyMap<string, readonly string[]>,
  changes: ReadonlyMap<TableName, { upserts: Row[]; deletes: Row[] }>,
): Promise<void> {
  for (const [table, { upserts, deletes }] of changes) {
    const target = `${ident(schema)}.${ident(table)}`;
    if (deletes.length > 0) {
      await client.query(
        `DELETE FROM ${target} x USING jsonb_to_recordset($1::jsonb) AS k(${keyRecord(table)})
         WHERE ${keyJoin(table, "x", "k")}`,
        [JSON.stringify(deletes)],
      );
    }
    if (upserts.length > 0) {
      const keys = new Set<string>(keyColumns(table));
      const set = (columns.get(table) ?? [])
        .filter((column) => !keys.has(column))
        .map((column) => `${ident(column)} = EXCLUDED.${ident(column)}`);
      await client.query(
        `INSERT INTO ${target} SELECT * FROM jsonb_populate_recordset(NULL::${target}, $1::jsonb)
         ON CONFLICT (${keyColumns(table).map(ident).join(", ")}) DO UPDATE SET ${set.join(", ")}`,
        [JSON.stringify(upserts)],
      );
    }
  }
}

const eventColumns = [
  "event_id",
  "type",
  "chain_id",
  "block_number",
  "block_hash",
  "block_time",
  "tx_hash",
  "log_index",
  "patient",
  "payload",
  "retracted",
];

/** Inserts events (applied_at defaults to now()); returns how many were new. */
export async function insertEvents(
  client: PoolClient,
  schema: string,
  rows: readonly Row[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = eventColumns.map(ident).join(", ");
  const target = `${ident(schema)}.events`;
  const result = await client.query(
    `INSERT INTO ${target} (${columns})
     SELECT ${columns} FROM jsonb_populate_recordset(NULL::${target}, $1::jsonb)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return result.rowCount ?? 0;
}

/** Which of `ids` are in the events table already, and whether retracted. */
export async function knownEvents(
  client: PoolClient,
  schema: string,
  ids: readonly string[],
): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<{ event_id: string; retracted: boolean }>(
    `SELECT event_id, retracted FROM ${ident(schema)}.events WHERE event_id = ANY($1::text[])`,
    [ids],
  );
  return new Map(rows.map((row) => [row.event_id, row.retracted]));
}

export async function insertUndo(
  client: PoolClient,
  schema: string,
  entries: readonly UndoEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO ${ident(schema)}.event_undo (event_id, seq, table_name, key, before)
     SELECT event_id, seq, table_name, key, before
     FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, seq int, table_name text, key jsonb, before jsonb)`,
    [JSON.stringify(entries)],
  );
}

/** Column names of every table of a generation schema, in table order. */
export async function tableColumns(client: PoolClient, schema: string): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1
     ORDER BY table_name, ordinal_position`,
    [schema],
  );
  const out = new Map<string, string[]>();
  for (const row of rows) out.set(row.table_name, [...(out.get(row.table_name) ?? []), row.column_name]);
  return out;
}
