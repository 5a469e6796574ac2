import { getStack } from "@carechain/stack/testing";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { createPool } from "./pool.ts";

describe("createPool", () => {
  test("error: an idle connection the server ends (PostgreSQL restarting) does not crash the process", async () => {
    const applicationName = `pool-test-${process.pid}-${Date.now()}`;
    const pool = createPool(getStack().databaseUrl, { applicationName });
    const admin = new pg.Client({ connectionString: getStack().databaseUrl });
    await admin.connect();
    try {
      await pool.query("SELECT 1"); // leaves one idle client in the pool
      const ended = await admin.query(
        "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1",
        [applicationName],
      );
      expect(ended.rows).toEqual([{ ended: true }]);
      // The pool sees the idle client die (an 'error' event: unhandled, it would end the process) ...
      for (let i = 0; i < 100 && pool.idleCount > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(pool.idleCount).toBe(0);
      // ... and the next query connects again.
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await pool.end();
    }
  });
});
