import { ident, type Pool, type PoolClient } from "../database/pool.ts";
import { projectionTables, type Row, tableNames } from "./tables.ts";

/** Tables compared by tests and rebuild checks: the projections, the event log and the dead letters. */
export const dumpedTables = [...tableNames, "events", "dead_letters"] as const;
export type Dump = Record<(typeof dumpedTables)[number], Row[]>;

const orderOf: Record<string, readonly string[]> = {
  ...Object.fromEntries(tableNames.map((table) => [table, projectionTables[table].key])),
  events: ["event_id"],
  dead_letters: ["topic", "partition", "offset"],
};
/** Columns that differ between runs by nature (wall-clock times of writing). */
const volatileColumns: Record<string, string[]> = { events: ["applied_at"], dead_letters: ["at"] };

/**
 * Every row of the projection tables of `schema`, ordered by primary key (byte order), without wall-clock
 * columns, timestamps as Unix seconds: two projections are equal when their dumps are deep-equal.
 */
export async function dumpProjections(db: Pool | PoolClient, schema: string): Promise<Dump> {
  const out: Record<string, Row[]> = {};
  for (const table of dumpedTables) {
    const order = orderOf[table]!.map((column) =>
      table === "dead_letters" && column !== "topic" ? ident(column) : `${ident(column)} COLLATE "C"`,
    );
    const drop = (volatileColumns[table] ?? []).map((column) => ` - '${column}'`).join("");
    const { rows } = await db.query<{ row: Row }>(
      `SELECT to_jsonb(t)${drop} AS row FROM ${ident(schema)}.${ident(table)} t ORDER BY ${order.join(", ")}`,
    );
    out[table] = rows.map(({ row }) => normalizeRow(row));
  }
  return out as Dump;
}

const timestamp = /^(\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?\+00:00$/;

/** Timestamps (as to_jsonb prints them in UTC) to Unix seconds. */
function normalizeRow(row: Row): Row {
  const out: Row = {};
  for (const [column, value] of Object.entries(row)) {
    const match = typeof value === "string" ? timestamp.exec(value) : null;
    out[column] = match
      ? Date.UTC(
          Number(match[1]),
          Number(match[2]) - 1,
          Number(match[3]),
          Number(match[4]),
          Number(match[5]),
          Number(match[6]),
        ) / 1000
      : value;
  }
  return out;
}
