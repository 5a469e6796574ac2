import { fileURLToPath } from "node:url";
import { createSilentLogger } from "@carechain/common";
import { runner } from "node-pg-migrate";
import { afterEach, describe, expect, test } from "vitest";
import { migrateGatewaySchema } from "../database/migrate.ts";
import type { Database } from "../database/pool.ts";
import { auditAddresses, auditEntry } from "../testing/audit-entry.ts";
import { createTestDatabase } from "../testing/database.ts";
import { readAccessLog } from "./access-log.ts";
import { AuditLog } from "./audit-log.ts";
import { readSetOf } from "./read-set.ts";

const { patient, other, doctor, insurer } = auditAddresses;
const entry = auditEntry;

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

/**
 * The patient's entries as the `audit_log` view gives them, newest first, are `order` ("request kind"), and
 * `readAccessLog` pages exactly them at every size in `sizes`: none missed, none twice, no page too long.
 */
async function expectPagesLikeTheView(db: Database, order: string[], sizes: number[]) {
  const all = await db.query<{ id: string; request_id: string; what: string }>(
    `SELECT id::text, request_id, what FROM ${db.gateway}.audit_log a WHERE patient = $1 ORDER BY a.id DESC`,
    [patient],
  );
  const expected = all.map((row) => `${row.id} ${row.request_id} ${row.what}`);
  expect(expected.map((line) => line.split(" ").slice(1).join(" "))).toEqual(order);
  for (const size of sizes) {
    const read = await pages(db, size);
    expect(read.flat(), `pages of ${size}`).toEqual(expected);
    expect(read.every((page) => page.length <= size)).toBe(true);
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
    await expectPagesLikeTheView(
      db,
      ["r3 vitals", "r3 profile", "r2 alerts", "r1 records", "r1 vitals", "r1 profile"],
      [1, 2, 4, 6, 10],
    );
    // The fields of an entry are the ones stored.
    const [newest] = await readAccessLog(db, patient, { before: null, limit: 1 });
    // The same fields as the entry stored (an AccessLogEntry has an AuditEntry's fields, with its id).
    expect(newest).toMatchObject(entry("r3", { what: "vitals" }));
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
    expect(await migrateGatewaySchema(db)).toEqual(["005_audit-accesses", "006_audit-served"]);
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
      await runner({ ...migrations, dbClient: down, direction: "down", count: 2 });
      const rows = await down.query<{ id: string; what: string }>(
        `SELECT id::text, what FROM ${db.gateway}.audit_log a ORDER BY a.id DESC`,
      );
      expect(rows.rows).toEqual(read.map((one) => ({ id: one.id, what: one.what })));
    } finally {
      down.release(true);
    }
  });

  test("behavior: a request served a kept answer is one row naming its read set; its entries page with the others, and down keeps them", async () => {
    const db = await database();
    await migrateGatewaySchema(db);
    const log = new AuditLog({ db, logger: createSilentLogger() });
    // The reads of an answer: another patient first (so the patient's entries are not a served row's first),
    // then two kinds of the patient.
    const answered = [
      entry("x", { what: "profile", patient: other }),
      entry("x", { what: "profile" }),
      entry("x", { what: "vitals" }),
    ];
    const set = readSetOf(answered)!;
    await log.recordAll(answered.map((one) => ({ ...one, requestId: "r1" })));
    await log.recordAll([entry("r2", { what: "alerts", viewer: insurer, rule: "alert-recipient" })]);
    await log.recordServed({ set, requestId: "s1", readAt: new Date(1_764_500_200_000) });
    await log.recordServed({ set, requestId: "s2", readAt: new Date(1_764_500_300_000) });

    const count = async (table: string) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.gateway}.${table}`))[0]!.n;
    expect(await count("audit_served")).toBe(2);
    expect(await count("audit_read_set")).toBe(1);
    expect(await count("audit_read_set_access")).toBe(2);
    // Each served request reads as the answer's entries under its own id and time.
    const byRequest = await db.query<{ request_id: string; patient: string; what: string; read_at: Date }>(
      `SELECT request_id, patient, what, read_at FROM ${db.gateway}.audit_log
        WHERE request_id IN ('r1', 's2') ORDER BY request_id, id`,
    );
    expect(byRequest.map((row) => [row.request_id, row.patient, row.what])).toEqual([
      ["r1", other, "profile"],
      ["r1", patient, "profile"],
      ["r1", patient, "vitals"],
      ["s2", other, "profile"],
      ["s2", patient, "profile"],
      ["s2", patient, "vitals"],
    ]);
    expect(byRequest.at(-1)!.read_at).toEqual(new Date(1_764_500_300_000));

    await expectPagesLikeTheView(
      db,
      ["s2 vitals", "s2 profile", "s1 vitals", "s1 profile", "r2 alerts", "r1 vitals", "r1 profile"],
      [1, 2, 3, 7, 10],
    );
    const [newest] = await readAccessLog(db, patient, { before: null, limit: 1 });
    expect(newest).toMatchObject(entry("s2", { what: "vitals", readAt: new Date(1_764_500_300_000) }));

    // Back to one row per access: every entry keeps its id.
    const everything = `SELECT id::text, viewer, patient, what, rule, request_id, read_at FROM ${db.gateway}.audit_log ORDER BY id`;
    const before = await db.query(everything);
    const client = await db.pool.connect();
    try {
      await runner({
        dbClient: client,
        dir: fileURLToPath(new URL("../database/migrations/", import.meta.url)),
        schema: db.gatewaySchema,
        migrationsTable: "gateway_migrations",
        singleTransaction: true,
        direction: "down",
        count: 1,
        log: () => {},
      });
    } finally {
      client.release(true);
    }
    expect(await db.query(everything)).toEqual(before);
  });

  test("behavior: a read set removed by hand is stored again by the next request served it", async () => {
    const db = await database();
    await migrateGatewaySchema(db);
    const log = new AuditLog({ db, logger: createSilentLogger() });
    const set = readSetOf([entry("x", { what: "records" })])!;
    await log.recordServed({ set, requestId: "s1", readAt: new Date(1_764_500_200_000) });
    await db.query(
      `DELETE FROM ${db.gateway}.audit_served; DELETE FROM ${db.gateway}.audit_read_set_access;
       DELETE FROM ${db.gateway}.audit_read_set`,
    );
    await log.recordServed({ set, requestId: "s2", readAt: new Date(1_764_500_300_000) });
    const read = await readAccessLog(db, patient, { before: null, limit: 10 });
    expect(read.map((one) => [one.requestId, one.what])).toEqual([["s2", "records"]]);
  });

  test("error: a served request the database rejects is refused, its entries counted; the next is stored", async () => {
    const db = await database();
    await migrateGatewaySchema(db);
    const refused: [number, string][] = [];
    const log = new AuditLog({
      db,
      logger: createSilentLogger(),
      onRefused: (count, reason) => refused.push([count, reason]),
    });
    const set = readSetOf([entry("x", { what: "profile" }), entry("x", { what: "vitals" })])!;
    await db.query(`ALTER TABLE ${db.gateway}.audit_served ADD CONSTRAINT probe CHECK (false) NOT VALID`);
    await expect(
      log.recordServed({ set, requestId: "s1", readAt: new Date(1_764_500_200_000) }),
    ).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
    expect(refused).toEqual([[2, "rejected"]]);
    await db.query(`ALTER TABLE ${db.gateway}.audit_served DROP CONSTRAINT probe`);
    await log.recordServed({ set, requestId: "s2", readAt: new Date(1_764_500_300_000) });
    const read = await readAccessLog(db, patient, { before: null, limit: 10 });
    expect(read.map((one) => [one.requestId, one.what])).toEqual([
      ["s2", "vitals"],
      ["s2", "profile"],
    ]);
  });
});
