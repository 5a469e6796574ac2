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
  test("default: every table readers see has the triggers, for every kind of change", async () => {
    const { rows } = await pool.query<{ table: string; kinds: string[] }>(
      `SELECT c.relname AS table, array_agg(t.tgname::text ORDER BY t.tgname) AS kinds
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND t.tgname LIKE c.relname || '_read_version%' AND NOT t.tgisinternal
        GROUP BY c.relname`,
      [schema],
    );
    const covered = rows.map((row) => row.table).sort();
    expect(covered).toEqual([...tableNames, "events", "event_feed"].sort());
    for (const row of rows) {
      const suffixes = row.kinds.map((name) => name.slice(row.table.length));
      expect(suffixes).toEqual([
        "_read_version",
        "_read_version_delete",
        "_read_version_truncate",
        "_read_version_update",
      ]);
    }
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

const stamps = async (addresses: string[]) => {
  const { rows } = await pool.query<{ address: string; bumped_at: string }>(
    `SELECT address, bumped_at FROM ${ident(schema)}.address_version WHERE address = ANY($1)`,
    [addresses],
  );
  return Object.fromEntries(rows.map((row) => [row.address, Number(row.bumped_at)]));
};

describe("address versions", () => {
  const patient = `0x${"a1".repeat(20)}`;
  const doctor = `0x${"b2".repeat(20)}`;
  const other = `0x${"c3".repeat(20)}`;
  const recipient = `0x${"d4".repeat(20)}`;

  test("default: a change stamps each address its rows hold with the version it bumped to", async () => {
    const p = ident(schema);
    await pool.query(
      `INSERT INTO ${p}.alert_recipients (patient, recipients, updated_at) VALUES ($1, ARRAY[$2, $3]::text[], now())`,
      [patient, doctor, recipient],
    );
    const v = await version();
    expect(await stamps([patient, doctor, recipient, other])).toEqual({
      [patient]: v,
      [doctor]: v,
      [recipient]: v,
    });
  });

  test("behavior: an update stamps the addresses before and after it; others keep their stamp", async () => {
    const p = ident(schema);
    const before = await stamps([patient, doctor, recipient]);
    await pool.query(`UPDATE ${p}.alert_recipients SET recipients = ARRAY[$2]::text[] WHERE patient = $1`, [
      patient,
      other,
    ]);
    const v = await version();
    expect(v).toBeGreaterThan(before[patient]!);
    // doctor and recipient were in the row before: a reader listing them must see they left.
    expect(await stamps([patient, doctor, recipient, other])).toEqual({
      [patient]: v,
      [doctor]: v,
      [recipient]: v,
      [other]: v,
    });
    await pool.query(
      `INSERT INTO ${p}.vitals_ranges (patient, set_by, systolic_min, systolic_max, diastolic_min, diastolic_max, updated_at)
       VALUES ($1, $1, 90, 140, 60, 90, now())`,
      [recipient],
    );
    const after = await stamps([patient, recipient]);
    expect(after[recipient]).toBe(await version());
    expect(after[patient]).toBe(v);
  });

  test("behavior: a delete stamps the rows' addresses; a truncate counts as a change of everything", async () => {
    const p = ident(schema);
    await pool.query(`DELETE FROM ${p}.alert_recipients WHERE patient = $1`, [patient]);
    expect((await stamps([patient]))[patient]).toBe(await version());
    const truncations = async () =>
      Number(
        (await pool.query<{ truncations: string }>(`SELECT truncations FROM ${p}.read_version`)).rows[0]!
          .truncations,
      );
    const t = await truncations();
    await pool.query(`TRUNCATE ${p}.alert_recipients`);
    expect(await truncations()).toBe(t + 1);
  });
});
