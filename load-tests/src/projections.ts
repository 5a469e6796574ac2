// Waits until the projections in PostgreSQL hold the seeded population: the end of the pipeline, so the
// population is readable through the gateway once this returns.
import { formatDuration, NonRetryableError, sleep } from "@carechain/common";
import pg from "pg";
import { type Say, seconds } from "./paths.ts";
import type { PopulationSize } from "./population.ts";

export type ProjectedCounts = {
  patients: number;
  doctors: number;
  grants: number;
  records: number;
  readings: number;
};

export async function projectedCounts(
  client: pg.Client,
  schema: string,
): Promise<ProjectedCounts | undefined> {
  const s = client.escapeIdentifier(schema);
  const exists = await client.query(
    "select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'vital_readings'",
    [schema],
  );
  if (exists.rows[0].n === 0) return undefined;
  const { rows } = await client.query(
    `select (select count(*) from ${s}.patients)::int as patients,
            (select count(*) from ${s}.doctors)::int as doctors,
            (select count(*) from ${s}.grants where revoked_at is null)::int as grants,
            (select count(*) from ${s}.records)::int as records,
            (select count(*) from ${s}.vital_readings)::int as readings`,
  );
  return rows[0] as ProjectedCounts;
}

/** Polls the projected counts until each is at least the population's; prints progress and the rate. */
export async function waitForProjections(options: {
  databaseUrl: string;
  schema: string;
  expected: PopulationSize;
  say: Say;
  timeoutMs?: number;
  /** Fail when the counts do not move for this long (default 2 minutes). */
  stallMs?: number;
  /** The pipeline's failure (a service supervision gave up on): fails the wait at once. */
  failed?: () => Error | undefined;
}): Promise<{ ms: number; counts: ProjectedCounts }> {
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    application_name: "carechain-load-tests",
  });
  await client.connect();
  const total = (c: ProjectedCounts) => c.patients + c.doctors + c.grants + c.records + c.readings;
  const e = options.expected;
  const goal = e.patients + e.doctors + e.grants + e.records + e.readings;
  let first: { at: number; rows: number } | undefined;
  let lastReport = Date.now();
  let lastRows = -1;
  let lastProgress = Date.now();
  const stallMs = options.stallMs ?? 120_000;
  try {
    for (;;) {
      const failure = options.failed?.();
      if (failure) {
        throw new NonRetryableError(
          `the pipeline failed before the projections caught up: ${failure.message}`,
        );
      }
      const counts = await projectedCounts(client, options.schema);
      if (counts) {
        const done =
          counts.patients >= e.patients &&
          counts.doctors >= e.doctors &&
          counts.grants >= e.grants &&
          counts.records >= e.records &&
          counts.readings >= e.readings;
        const rows = total(counts);
        first ??= { at: Date.now(), rows };
        if (done) {
          options.say(`projections caught up in ${seconds(Date.now() - started)} (${describe(counts)})`);
          return { ms: Date.now() - started, counts };
        }
        if (rows !== lastRows) {
          lastRows = rows;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > stallMs) {
          throw new NonRetryableError(
            `the projections have not moved for ${seconds(stallMs)} (${describe(counts)}; expected ${goal} rows): ` +
              "see the ingest and projector logs",
          );
        }
        if (Date.now() - lastReport > 5_000) {
          lastReport = Date.now();
          const rate = (rows - first.rows) / Math.max((Date.now() - first.at) / 1000, 1e-3);
          const eta = rate > 0 ? Math.max(goal - rows, 0) / rate : null;
          options.say(
            `  waiting for the projector: ${describe(counts)} (${rate.toFixed(0)} rows/s, ETA ${formatDuration(eta)})`,
          );
        }
      }
      if (Date.now() - started > timeoutMs) {
        throw new NonRetryableError(
          `the projections did not catch up in ${seconds(timeoutMs)} (${counts ? describe(counts) : `no schema ${options.schema}`})`,
        );
      }
      await sleep(500);
    }
  } finally {
    await client.end();
  }
}

export function describe(c: ProjectedCounts): string {
  return `${c.patients} patients, ${c.doctors} doctors, ${c.grants} grants, ${c.records} records, ${c.readings} readings`;
}
