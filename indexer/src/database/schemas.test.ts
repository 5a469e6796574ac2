import { createCommon, createSilentLogger } from "@carechain/common";
import { getStack } from "@carechain/stack/testing";
import { describe, expect, test } from "vitest";
import { migrate, projectionMigrationsDir } from "./migrate.ts";
import { createPool, ident } from "./pool.ts";
import {
  activeGrantsCondition,
  ensureActiveGeneration,
  listGenerations,
  openEmergencyAccessCondition,
  schemaNames,
} from "./schemas.ts";

describe("schemas", () => {
  test("default", async () => {
    const { databaseUrl } = getStack();
    const pool = createPool(databaseUrl, { max: 2 });
    const base = `t_schemas_${Date.now().toString(36)}${process.pid.toString(36)}`;
    const logger = createCommon("test", {}, { logger: createSilentLogger() }).logger;
    const ctx = { pool, databaseUrl, base, logger };
    try {
      // Two processes starting at once: one creates generation 1, the other finds it.
      const [a, b] = await Promise.all([
        ensureActiveGeneration(ctx, "group"),
        ensureActiveGeneration(ctx, "group"),
      ]);
      expect(a).toEqual(b);
      expect(a).toMatchObject({ generation: 1, schema: `${base}_p1`, groupId: "group.p1", status: "active" });
      expect(await listGenerations(pool, base)).toHaveLength(1);
      expect(await migrate({ databaseUrl, schema: a.schema, dir: projectionMigrationsDir })).toEqual([]);

      const views = await pool.query(
        `SELECT viewname FROM pg_views WHERE schemaname = $1 ORDER BY viewname COLLATE "C"`,
        [base],
      );
      expect(views.rows.map((r) => r.viewname)).toEqual([
        "active_grants",
        "alert_recipients",
        "alerts",
        "devices",
        "doctors",
        "emergency_access",
        "events",
        "grant_history",
        "grants",
        "open_emergency_access",
        "organizations",
        "patients",
        "records",
        "vital_readings",
        "vitals_ranges",
      ]);
      const condition = await pool.query(
        `SELECT count(*)::int AS grants FROM ${ident(base)}.grants g WHERE ${activeGrantsCondition("g")}
         UNION ALL SELECT count(*)::int FROM ${ident(base)}.emergency_access e WHERE ${openEmergencyAccessCondition("e")}`,
      );
      expect(condition.rows).toEqual([{ grants: 0 }, { grants: 0 }]);
    } finally {
      for (const schema of [`${base}_p1`, `${base}_meta`, base]) {
        await pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      }
      await pool.end();
    }
  });

  test("error: a schema base that is not a plain identifier says what to set", () => {
    expect(() => schemaNames("Bad-Name")).toThrow(/PROJECTION_SCHEMA_BASE/);
  });
});
