/**
 * What auditing a cached DoctorFetch costs PostgreSQL, side by side in one run: its 40 entries (20 patients,
 * profile and vitals each) stored as rows per access (`recordAll`, as an executed answer is) or as one row
 * naming the answer's read set (`recordServed`, as a served one is, gateway migration 006). Eight requests
 * at a time, each with its own id, through the real AuditLog and PostgreSQL; the server's CPU per request
 * is read from /proc for the pool's backends and printed after each bench.
 *
 *   npx vitest bench --run graphql-gateway/src/audit/served.bench.ts
 */
import { readFileSync } from "node:fs";
import { createSilentLogger } from "@carechain/common";
import { afterAll, beforeAll, bench, describe } from "vitest";
import { migrateGatewaySchema } from "../database/migrate.ts";
import type { Database } from "../database/pool.ts";
import { createTestDatabase } from "../testing/database.ts";
import { type AuditEntry, AuditLog } from "./audit-log.ts";
import { type ReadSet, readSetOf } from "./read-set.ts";

const doctor = "0x00000000000000000000000000000000000000d1";
const patients = Array.from({ length: 20 }, (_, index) => `0x${(index + 1).toString(16).padStart(40, "0")}`);
const entries: AuditEntry[] = patients.flatMap((patient) =>
  (["profile", "vitals"] as const).map((what) => ({
    viewer: doctor,
    patient,
    what,
    rule: "grant" as const,
    grantScopes: 7,
    grantGrantedAt: new Date(1_764_500_000_000),
    accessExpiresAt: null,
    channel: "query" as const,
    requestId: "x",
    readAt: new Date(),
  })),
);
const set = readSetOf(entries) as ReadSet;

let db: Database;
let drop: () => Promise<void>;
let log: AuditLog;
let requests = 0;

beforeAll(async () => {
  ({ db, drop } = await createTestDatabase());
  await migrateGatewaySchema(db);
  log = new AuditLog({ db, logger: createSilentLogger() });
});

afterAll(async () => {
  await drop?.();
});

/** CPU seconds of this database's server backends (the pool's connections), from /proc. */
async function backendCpu(): Promise<number> {
  const rows = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
  );
  let ticks = 0;
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // A backend that ended meanwhile: its time is gone with it (the pool keeps its connections).
    }
  }
  return ticks / 100;
}

function measured(name: string, eight: () => Promise<unknown>) {
  const run = async () => {
    await eight();
  };
  let start = { cpu: 0, requests: 0 };
  return bench(name, run, {
    time: 5_000,
    warmupTime: 500,
    setup: async () => {
      start = { cpu: await backendCpu(), requests };
    },
    teardown: async () => {
      const cpu = (await backendCpu()) - start.cpu;
      const count = requests - start.requests;
      console.log(`${name}: PostgreSQL ${((cpu * 1000) / count).toFixed(3)} CPU-ms per request (${count})`);
    },
  });
}

describe("a cached DoctorFetch's audit (40 entries), eight requests at a time", () => {
  measured("rows per access (recordAll)", () =>
    Promise.all(
      Array.from({ length: 8 }, () => {
        const requestId = `bench-${++requests}`;
        return log.recordAll(entries.map((entry) => ({ ...entry, requestId, readAt: new Date() })));
      }),
    ),
  );
  measured("one row naming the read set (recordServed)", () =>
    Promise.all(
      Array.from({ length: 8 }, () =>
        log.recordServed({ set, requestId: `bench-${++requests}`, readAt: new Date() }),
      ),
    ),
  );
});
