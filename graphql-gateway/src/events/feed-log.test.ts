import { randomBytes } from "node:crypto";
import {
  activateGeneration,
  createGeneration,
  createPool,
  ensureActiveGeneration,
  schemaNames,
} from "@carechain/indexer";
import { getStack } from "@carechain/stack/testing";
import { describe, expect, test, vi } from "vitest";
import { createDatabase } from "../database/pool.ts";
import { createTestDatabase, Fixtures, lower, newAccount } from "../testing/index.ts";
import { type FeedPageRequest, feedEnd, readFeedPage, readFeedPages } from "./feed-log.ts";

// The feed's origin (its generation) on the projector's real layout: the stable schema's views over the
// active generation, switched by activateGeneration as a rebuild does.

describe("feed origin", () => {
  test("default: stable while the generation is, new when a rebuilt generation is activated", async () => {
    const url = getStack().databaseUrl;
    const base = `gw_gen_${randomBytes(4).toString("hex")}`;
    const names = schemaNames(base);
    const pool = createPool(url);
    const ctx = { pool, databaseUrl: url, base };
    const db = createDatabase({ url, projectionSchema: base, gatewaySchema: base, max: 2 });
    try {
      await ensureActiveGeneration(ctx, "gw-gen-test");
      const first = await feedEnd(db);
      expect(first.origin).toMatch(/^[0-9a-f]{12}$/);
      expect((await feedEnd(db)).origin).toBe(first.origin);
      const page = await readFeedPage(db, {
        viewer: `0x${"1".repeat(40)}`,
        after: 0n,
        limit: 10,
        types: ["RecordAdded"],
        patients: null,
      });
      expect(page).toEqual({ origin: first.origin, horizon: 0n, items: [], full: false });

      const rebuilt = await createGeneration(ctx, "gw-gen-test");
      await activateGeneration(ctx, rebuilt.generation);
      expect((await feedEnd(db)).origin).not.toBe(first.origin);
    } finally {
      await db.close();
      await pool.query(
        [names.stable, names.meta, names.generation(1), names.generation(2)]
          .map((schema) => `DROP SCHEMA IF EXISTS "${schema}" CASCADE;`)
          .join(" "),
      );
      await pool.end();
    }
  });

  test("behavior: a schema holding the table itself (no views) has an origin of its own", async () => {
    const one = await createTestDatabase();
    const two = await createTestDatabase();
    try {
      const [a, b] = [await feedEnd(one.db), await feedEnd(two.db)];
      expect(a.origin).toMatch(/^[0-9a-f]{12}$/);
      expect(a.origin).not.toBe(b.origin);
      expect(a.seq).toBe(0n);
    } finally {
      await Promise.all([one.drop(), two.drop()]);
    }
  });
});

describe("pages", () => {
  test("behavior: readFeedPages answers many readers in one statement, each as readFeedPage does", async () => {
    const { db, drop } = await createTestDatabase();
    try {
      const fixtures = new Fixtures(db);
      const doctor = await fixtures.doctor(newAccount().address, { block: 2 });
      const [one, two] = [
        await fixtures.organization(newAccount().address, { kind: 2, block: 3 }),
        await fixtures.organization(newAccount().address, { kind: 2, block: 3 }),
      ];
      const [p1, p2] = [
        await fixtures.patient(newAccount().address, { block: 1 }),
        await fixtures.patient(newAccount().address, { block: 1 }),
      ];
      await fixtures.grant({ patient: p1, grantee: one, scopes: 7, block: 100 });
      await fixtures.grant({ patient: p2, grantee: one, scopes: 7, block: 100 });
      await fixtures.grant({ patient: p2, grantee: two, scopes: 7, block: 100 });
      for (let block = 110; block < 114; block++)
        for (const patient of [p1, p2])
          await fixtures.record({ patient, author: lower(doctor), type: 1, block });
      const base = { after: 0n, limit: 100, types: ["RecordAdded"] as const, patients: null };
      const requests: FeedPageRequest[] = [
        { ...base, viewer: lower(one) },
        { ...base, viewer: lower(two), limit: 3 }, // full: there is more
        { ...base, viewer: lower(one), patients: [lower(p2)] },
        { ...base, viewer: lower(two), after: 1_000n }, // nothing after
        { ...base, viewer: lower(one), types: ["AccessGranted"] },
      ];
      const alone = [];
      for (const request of requests) alone.push(await readFeedPage(db, request));
      const query = vi.spyOn(db, "query");
      const together = await readFeedPages(db, requests);
      expect(query).toHaveBeenCalledTimes(1);
      expect(together).toEqual(alone);
      expect(together.map((page) => [page.items.length, page.full])).toEqual([
        [8, false],
        [3, true],
        [4, false],
        [0, false],
        [3, false], // every grant event about its patients (narrowed, not decided: p2's grant to two too)
      ]);
      expect(await readFeedPages(db, [])).toEqual([]);
    } finally {
      await drop();
    }
  });
});
