import { fileURLToPath } from "node:url";
import { createSilentLogger } from "@carechain/common";
import { runner } from "node-pg-migrate";
import { afterEach, describe, expect, test } from "vitest";
import { migrateGatewaySchema } from "../database/migrate.ts";
import type { Database } from "../database/pool.ts";
import { createTestDatabase } from "../testing/database.ts";
import { readAccessLog } from "./access-log.ts";
import { type AuditEntry, AuditLog } from "./audit-log.ts";

const patient = "0x00000000000000000000000000000000000000a1";
const other = "0x00000000000000000000000000000000000000a2";
const doctor = "0x00000000000000000000000000000000000000b1";
const insurer = "0x00000000000000000000000000000000000000b2";

const entry = (requestId: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  viewer: doctor,
  patient,
  what: "profile",
  rule: "grant",
  grantScopes: 5,
  grantGrantedAt: new Date(1_764_500_000_000),
  accessExpiresAt: null,
  channel: "query",
  requestId,
  readAt: new Date(1_764_500_100_000),
  ...extra,
});

let drop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

async function database(): Promise<Database> {
  const created = await createTestDatabase();
  drop = created.drop;
  return created.db;
}

/** Every entry of the patient's log, newest first, read `size` at a time with the cursor of each page. */
async function pages(db: Database, size: number) {
  const read: string[][] = [];
  let before: string | null = null;
  for (;;) {
    const page = await readAccessLog(db, patient, { before, limit: size });
    if (page.length === 0) return read;
    read.push(page.map((one) => `${one.id} ${one.requestId} ${one.what}`));
    before = page.at(-1)!.id;
  }
}

describe("readAccessLog", () => {
  test("default: pages newest first, whatever the page size, miss nothing and repeat nothing", async () => {
    const db = await database();
    await migrateGatewaySchema(db);
    const log = new AuditLog({ db, logger: createSilentLogger() });
    // Requests that read several kinds of the patient (one stored row each), others and another patient.
    await log.recordAll([
      entry("r1", { what: "profile" }),
      entry("r1", { what: "vitals" }),
      entry("r1", { what: "records" }),
      entry("r1", { what: "profile", patient: other }),
    ]);
    await log.recordAll([entry("r2", { what: "alerts", viewer: insurer, rule: "alert-recipient" })]);
    await log.recordAll([entry("r3", { what: "profile" }), entry("r3", { what: "vitals" })]);
    // Stored one row per access: r1 read three kinds of the patient and one of another.
    const stored = await db.query<{ patient: string; what: string[] }>(
      `SELECT patient, what FROM ${db.gateway}.audit_access WHERE request_id = 'r1' ORDER BY id`,
    );
    expect(stored).toEqual([
      { patient, what: ["profile", "vitals", "records"] },
      { patient: other, what: ["profile"] },
    ]);
    const all = await db.query<{ id: string; request_id: string; what: string }>(
      `SELECT id::text, request_id, what FROM ${db.gateway}.audit_log a WHERE patient = $1 ORDER BY a.id DESC`,
      [patient],
    );
    const expected = all.map((row) => `${row.id} ${row.request_id} ${row.what}`);
    expect(expected.map((line) => line.split(" ").slice(1).join(" "))).toEqual([
      "r3 vitals",
      "r3 profile",
      "r2 alerts",
      "r1 records",
      "r1 vitals",
      "r1 profile",
    ]);
    for (const size of [1, 2, 4, 6, 10]) {
      const read = await pages(db, size);
      expect(read.flat(), `pages of ${size}`).toEqual(expected);
      expect(read.every((page) => page.length <= size)).toBe(true);
    }
    // The fields of an entry are the ones stored.
    const [newest] = await readAccessLog(db, patient, { before: null, limit: 1 });
    expect(newest).toMatchObject({
      viewer: doctor,
      patient,
      what: "vitals",
      rule: "grant",
      grantScopes: 5,
      grantGrantedAt: new Date(1_764_500_000_000),
      accessExpiresAt: null,
      channel: "query",
      requestId: "r3",
      readAt: new Date(1_764_500_100_000),
    });
  });

  test("behavior: entries stored before migration 005 keep their ids; new ones come after; down restores them", async () => {
    const db = await database();
    const migrations = {
      dbClient: undefined as never,
      dir: fileURLToPath(new URL("../database/migrations/", import.meta.url)),
      schema: db.gatewaySchema,
      createSchema: true,
      migrationsTable: "gateway_migrations",
      singleTransaction: true,
      log: () => {},
    };
    const client = await db.pool.connect();
    try {
      await runner({ ...migrations, dbClient: client, direction: "up", count: 4 });
      // One row per entry, as the audit log stored them before: ids with gaps, as a sequence leaves them.
      await client.query(
        `INSERT INTO ${db.gateway}.audit_log
           (id, viewer, patient, what, rule, grant_scopes, channel, request_id, read_at)
         VALUES (3, $1, $2, 'profile', 'grant', 5, 'query', 'old-1', now()),
                (4, $1, $2, 'vitals', 'grant', 5, 'query', 'old-1', now()),
                (9, $1, $2, 'records', 'emergency', NULL, 'query', 'old-2', now())`,
        [doctor, patient],
      );
    } finally {
      client.release(true);
    }
    expect(await migrateGatewaySchema(db)).toEqual(["005_audit-accesses"]);
    const log = new AuditLog({ db, logger: createSilentLogger() });
    await log.recordAll([entry("new-1", { what: "profile" }), entry("new-1", { what: "records" })]);
    const read = await readAccessLog(db, patient, { before: null, limit: 10 });
    expect(read.map((one) => [one.requestId, one.what])).toEqual([
      ["new-1", "records"],
      ["new-1", "profile"],
      ["old-2", "records"],
      ["old-1", "vitals"],
      ["old-1", "profile"],
    ]);
    expect(read.slice(2).map((one) => one.id)).toEqual(["9", "4", "3"]);
    expect(Number(read[1]!.id)).toBeGreaterThan(9);
    expect(Number(read[0]!.id)).toBe(Number(read[1]!.id) + 1);

    const down = await db.pool.connect();
    try {
      await runner({ ...migrations, dbClient: down, direction: "down", count: 1 });
      const rows = await down.query<{ id: string; what: string }>(
        `SELECT id::text, what FROM ${db.gateway}.audit_log a ORDER BY a.id DESC`,
      );
      expect(rows.rows).toEqual(read.map((one) => ({ id: one.id, what: one.what })));
    } finally {
      down.release(true);
    }
  });
});
