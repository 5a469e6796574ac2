import { randomBytes } from "node:crypto";
import {
  activateGeneration,
  createGeneration,
  createPool,
  ensureActiveGeneration,
  schemaNames,
} from "@carechain/indexer";
import { getStack } from "@carechain/stack/testing";
import { describe, expect, test } from "vitest";
import { createDatabase } from "../database/pool.ts";
import { createTestDatabase } from "../testing/index.ts";
import { feedEnd, readFeedPage } from "./feed-log.ts";

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
