import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCommon, createSilentLogger } from "@carechain/common";
import { getStack } from "@carechain/stack/testing";
import { describe, expect, test } from "vitest";
import { migrate, projectionMigrationsDir } from "./migrate.ts";
import { createPool, ident } from "./pool.ts";
import { ensureActiveGeneration, listGenerations, schemaNames } from "./schemas.ts";

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
        "address_version",
        "alert_recipients",
        "alerts",
        "devices",
        "doctors",
        "emergency_access",
        "event_feed",
        "events",
        "grant_history",
        "grants",
        "organizations",
        "patients",
        "read_version",
        "records",
        "vital_readings",
        "vitals_ranges",
      ]);
    } finally {
      for (const schema of [`${base}_p1`, `${base}_meta`, base]) {
        await pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      }
      await pool.end();
    }
  });

  test("behavior: the column-size migration upgrades a live generation, the views over it included; the gateway views go", async () => {
    const { databaseUrl } = getStack();
    const pool = createPool(databaseUrl, { max: 2 });
    const base = `t_sizes_${Date.now().toString(36)}${process.pid.toString(36)}`;
    const generation = `${base}_p1`;
    const older = await mkdtemp(join(tmpdir(), "migrations-"));
    try {
      // A generation as deployed before the column sizes, with the stable views over it and a view on those.
      for (const name of await readdir(projectionMigrationsDir)) {
        if (name < "1732400000004") await cp(join(projectionMigrationsDir, name), join(older, name));
      }
      await migrate({ databaseUrl, schema: generation, dir: older });
      await pool.query(`CREATE SCHEMA ${ident(base)}`);
      for (const table of ["records", "events", "active_grants"]) {
        await pool.query(
          `CREATE VIEW ${ident(base)}.${ident(table)} AS SELECT * FROM ${ident(generation)}.${ident(table)}`,
        );
      }
      await pool.query(
        `CREATE VIEW ${ident(base)}.latest_versions AS SELECT root_record_id, max(version) AS version
           FROM ${ident(base)}.records GROUP BY root_record_id`,
      );
      await pool.query(
        `INSERT INTO ${ident(generation)}.records (record_id, patient, author, submitter, record_type,
           content_hash, storage_pointer, root_record_id, version, block_number, block_time, log_index, event_id)
         VALUES ('r', 'p', 'a', 's', 1, 'h', 'x', 'r', 7, 1, now(), 3, 'e')`,
      );

      expect(await migrate({ databaseUrl, schema: generation, dir: projectionMigrationsDir })).toEqual(
        expect.arrayContaining(["1732400000004_column-sizes", "1732400000005_drop-gateway-views"]),
      );
      const types = await pool.query(
        `SELECT table_schema = $1 AS view, table_name, column_name, data_type FROM information_schema.columns
          WHERE table_schema IN ($1, $2) AND (table_name, column_name) IN (('records', 'version'),
            ('records', 'log_index'), ('records', 'record_type'), ('events', 'chain_id'), ('latest_versions', 'version'))
          ORDER BY 1, 2, 3`,
        [base, generation],
      );
      expect(types.rows).toEqual([
        { view: false, table_name: "events", column_name: "chain_id", data_type: "bigint" },
        { view: false, table_name: "records", column_name: "log_index", data_type: "bigint" },
        { view: false, table_name: "records", column_name: "record_type", data_type: "integer" },
        { view: false, table_name: "records", column_name: "version", data_type: "bigint" },
        { view: true, table_name: "events", column_name: "chain_id", data_type: "bigint" },
        { view: true, table_name: "latest_versions", column_name: "version", data_type: "bigint" },
        { view: true, table_name: "records", column_name: "log_index", data_type: "bigint" },
        { view: true, table_name: "records", column_name: "record_type", data_type: "integer" },
        { view: true, table_name: "records", column_name: "version", data_type: "bigint" },
      ]);
      const rows = await pool.query(
        `SELECT root_record_id, version::int FROM ${ident(base)}.latest_versions`,
      );
      expect(rows.rows).toEqual([{ root_record_id: "r", version: 7 }]);
      // Dropping the unused gateway views (1732400000005) takes the stable view over them along.
      const views = await pool.query(
        `SELECT viewname FROM pg_views WHERE schemaname = $1 ORDER BY viewname COLLATE "C"`,
        [base],
      );
      expect(views.rows.map((r) => r.viewname)).toEqual(["events", "latest_versions", "records"]);
    } finally {
      await rm(older, { recursive: true, force: true });
      for (const schema of [generation, base]) {
        await pool.query(`DROP SCHEMA IF EXISTS ${ident(schema)} CASCADE`);
      }
      await pool.end();
    }
  });

  test("error: a schema base that is not a plain identifier says what to set", () => {
    expect(() => schemaNames("Bad-Name")).toThrow(/PROJECTION_SCHEMA_BASE/);
  });
});
