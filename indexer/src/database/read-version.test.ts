/**
 * The read version (migration 0006) that the gateway's answer cache trusts: every table readers see bumps
 * it, in the writer's own transaction, whoever the writer is.
 */
import { getStack } from "@carechain/stack/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tableNames } from "../projector/tables.ts";
import { migrate } from "./migrate.ts";
import { createPool, ident, type Pool } from "./pool.ts";

let pool: Pool;
const schema = `t_read_version_${Date.now().toString(36)}${process.pid.toString(36)}`;

beforeAll(async () => {
  pool = createPool(getStack().databaseUrl, { max: 2 });
  await migrate({ databaseUrl: getStack().databaseUrl, schema });
});

afterAll(async () => {
  await pool?.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
  await pool?.end();
});

const version = async () =>
  Number(
    (await pool.query<{ version: string }>(`SELECT version FROM ${ident(schema)}.read_version`)).rows[0]!
      .version,
  );

describe("read version", () => {
  test("default: every table readers see has the trigger", async () => {
    const { rows } = await pool.query<{ table: string }>(
      `SELECT c.relname AS table FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND t.tgname = c.relname || '_read_version' AND NOT t.tgisinternal`,
      [schema],
    );
    const covered = rows.map((row) => row.table).sort();
    expect(covered).toEqual([...tableNames, "events", "event_feed"].sort());
  });

  test("behavior: a committed change bumps it; a rolled-back one does not", async () => {
    const before = await version();
    const p = ident(schema);
    await pool.query(
      `INSERT INTO ${p}.vitals_ranges (patient, set_by, systolic_min, systolic_max, diastolic_min, diastolic_max, updated_at)
       VALUES ('0x01', '0x02', 90, 140, 60, 90, now())`,
    );
    expect(await version()).toBe(before + 1);

    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`DELETE FROM ${p}.vitals_ranges`);
      await client.query("ROLLBACK");
    } finally {
      client.release();
    }
    expect(await version()).toBe(before + 1);
  });
});
