/**
 * The read version (migration 0006) that the gateway's answer cache trusts: every table readers see bumps
 * it, in the writer's own transaction, whoever the writer is.
 */
import { getStack } from "@carechain/stack/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { addressesStampedSetting, stampAddresses } from "../projector/address-stamps.ts";
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

const readState = async () => {
  const { rows } = await pool.query<{ version: string; unattributed: string }>(
    `SELECT version, unattributed FROM ${ident(schema)}.read_version`,
  );
  return { version: Number(rows[0]!.version), unattributed: Number(rows[0]!.unattributed) };
};

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

  test("default: a writer that stamps its addresses bumps the version without an unattributed change", async () => {
    const before = await readState();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL ${addressesStampedSetting} = 'on'`);
      await client.query(
        `INSERT INTO ${ident(schema)}.alert_recipients (patient, recipients, updated_at) VALUES ($1, ARRAY[$2]::text[], now())`,
        [patient, doctor],
      );
      await stampAddresses(client, schema, new Set([patient, doctor]));
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const after = await readState();
    expect(after.unattributed).toBe(before.unattributed);
    expect(after.version).toBeGreaterThan(before.version);
    // The stamp is the version the transaction committed: no reader saw it before the rows.
    expect(await stamps([patient, doctor, other])).toEqual({
      [patient]: after.version,
      [doctor]: after.version,
    });
  });

  test("behavior: a write that stamps nothing, or a TRUNCATE, counts as a change of everything", async () => {
    const p = ident(schema);
    const before = await readState();
    await pool.query(`UPDATE ${p}.alert_recipients SET recipients = ARRAY[$2]::text[] WHERE patient = $1`, [
      patient,
      other,
    ]);
    expect((await readState()).unattributed).toBe(before.unattributed + 1);
    await pool.query(`TRUNCATE ${p}.alert_recipients`);
    expect((await readState()).unattributed).toBe(before.unattributed + 2);
    // The setting lasts for its transaction only.
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`SET LOCAL ${addressesStampedSetting} = 'on'`);
      await client.query(`TRUNCATE ${p}.alert_recipients`); // no rows to stamp: counted anyway
      await client.query("COMMIT");
      await client.query(`DELETE FROM ${p}.alert_recipients`);
    } finally {
      client.release();
    }
    expect((await readState()).unattributed).toBe(before.unattributed + 4);
  });
});
