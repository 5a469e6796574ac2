/**
 * Webhook delivery figures on the real PostgreSQL of the vitest global setup: 100 subscriptions (one per
 * organization, each with its own HTTP receiver on 127.0.0.1), patients who granted every organization, so
 * that each event becomes 100 deliveries, each decided (as of the event and now) and audited, then decided
 * again before its send, signed and POSTed. Two phases:
 * - live: events committed at a steady rate while the service runs -> latency from the feed commit (the
 *   projector's applyBatch returning) to the receiver's request, p50 / p95 / max;
 * - backlog: events committed while the service is stopped, then one instance started -> deliveries/s
 *   until the outbox is drained (fill and send together).
 * Prints the machine's load beside the figures (other work on the machine changes them).
 *
 * BENCH_RATE takes a list (`1,3,10`): one live phase per rate, on the same world, then the backlog.
 * BENCH_STUCK=N adds one more subscription whose receiver is down: N outbox rows waiting behind a head whose
 * retry is a day away (as after a day of failures), to show what a dead receiver's backlog costs the others.
 *
 *   npx vitest bench --run delivery/src/delivery.bench.ts     (BENCH_EVENTS, BENCH_RATE, BENCH_SUBSCRIBERS, BENCH_SENDERS;
 *   BENCH_LOG=warn prints the service's log at that level)
 */
import { type ChildProcess, fork } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { createLogger, type LogLevel } from "@carechain/common";
import { lower, newAccount } from "@carechain/gateway/testing";
import { afterAll, bench, describe } from "vitest";
import { DEFAULT_SENDERS } from "./config.ts";
import { createHarness, eventually, type Harness, subscribe } from "./testing.ts";

const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? 100);
const events = Number(process.env.BENCH_EVENTS ?? 50);
// Events/s of each live phase (x subscribers = deliveries/s offered).
const rates = (process.env.BENCH_RATE ?? "1").split(",").map(Number);
const senders = Number(process.env.BENCH_SENDERS ?? DEFAULT_SENDERS);
const patientsCount = 10;
const stuck = Number(process.env.BENCH_STUCK ?? 0);

let harness: Harness | undefined;
let receivers: ChildProcess | undefined;

afterAll(async () => {
  receivers?.kill();
  await harness?.close();
});

/** Asks the receivers' process; resolves with its answer. */
function ask<T>(message: string): Promise<T> {
  return new Promise((resolve) => {
    receivers!.once("message", (answer) => resolve(answer as T));
    receivers!.send(message);
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const sorted = (values: number[]) => values.sort((a, b) => a - b);
const p50p95 = (values: number[]) => {
  const s = sorted(values);
  return `${Math.round(percentile(s, 50))} / ${Math.round(percentile(s, 95))} ms`;
};

/**
 * Where a live delivery's time goes, from the outbox's own clock (PostgreSQL's, the same machine's):
 * committed -> its outbox row written (fill), -> its first POST started (claim and decide again), ->
 * received (sign, POST).
 */
async function stagesOf(db: Harness["db"], committedAt: Map<string, number>, subscriptionOf: string[]) {
  const rows = await db.query<{
    subscription_id: string;
    event_id: string;
    created: number;
    started: number;
  }>(
    `SELECT d.subscription_id, d.event_id,
            extract(epoch FROM d.created_at)::float8 * 1000 AS created,
            extract(epoch FROM a.started_at)::float8 * 1000 AS started
       FROM ${db.gateway}.webhook_deliveries d
       JOIN ${db.gateway}.webhook_attempts a ON a.subscription_id = d.subscription_id AND a.seq = d.seq AND a.attempt = 1
      WHERE d.event_id = ANY($1::text[])`,
    [[...committedAt.keys()]],
  );
  const startedOf = new Map(rows.map((row) => [`${row.subscription_id}:${row.event_id}`, row.started]));
  return {
    fill: p50p95(rows.map((row) => row.created - committedAt.get(row.event_id)!)),
    queue: p50p95(rows.map((row) => row.started - row.created)),
    send: (receivedAt: [string, number, number][]) =>
      p50p95(
        receivedAt.map(([id, at, i]) => at - (startedOf.get(`${subscriptionOf[i]}:${id}`) ?? Number.NaN)),
      ),
  };
}

const load = () =>
  `load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ")} on ${cpus().length} cores`;

/** With BENCH_LOG: the outbox each second (due, leased, settled), to see where a slow phase waits. */
function sampleOutbox(db: Harness["db"]): () => void {
  if (!process.env.BENCH_LOG) return () => {};
  const started = Date.now();
  const sample = async () => {
    const [row] = await db.query<Record<string, string>>(
      `SELECT count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now())::text AS due,
              count(*) FILTER (WHERE status = 'pending' AND next_attempt_at > now())::text AS leased,
              count(*) FILTER (WHERE status = 'delivered')::text AS delivered,
              count(*) FILTER (WHERE status NOT IN ('pending', 'delivered'))::text AS other
         FROM ${db.gateway}.webhook_deliveries`,
    );
    const active = await db.query<Record<string, string>>(
      `SELECT coalesce(wait_event_type || ':' || wait_event, 'cpu') AS wait, count(*)::text AS n,
              max(extract(epoch FROM now() - query_start) * 1000)::int::text AS longest_ms,
              left(min(regexp_replace(query, '\\s+', ' ', 'g')), 50) AS query
         FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() GROUP BY 1`,
    );
    console.log(
      `  [outbox +${((Date.now() - started) / 1000).toFixed(0)} s] ${JSON.stringify(row)} active ${JSON.stringify(active)} (${load()})`,
    );
  };
  const timer = setInterval(
    () => void sample().catch((error: Error) => console.log(`  [outbox] ${error.message}`)),
    1_000,
  );
  return () => clearInterval(timer);
}

async function run(): Promise<void> {
  if (harness) return; // one run: the figures are printed, not measured by the bench loop
  const logLevel = process.env.BENCH_LOG as LogLevel | undefined;
  harness = await createHarness(
    logLevel ? createLogger({ service: "delivery-bench", level: logLevel }) : undefined,
  );
  const { fixtures, db } = harness;
  const doctor = await fixtures.doctor(newAccount().address, { block: 2 });
  const patients: Awaited<ReturnType<typeof fixtures.patient>>[] = [];
  for (let i = 0; i < patientsCount; i++)
    patients.push(await fixtures.patient(newAccount().address, { block: 1 }));
  receivers = fork(new URL("./bench-receivers.ts", import.meta.url).pathname, [String(subscribers)], {
    execArgv: ["--import", "tsx"],
  });
  const { ports } = await new Promise<{ ports: number[] }>((resolve) =>
    receivers!.once("message", (message) => resolve(message as { ports: number[] })),
  );
  const subscriptionOf: string[] = []; // by receiver index
  for (const port of ports) {
    const organization = await fixtures.organization(newAccount().address, { kind: 2, block: 3 });
    for (const patient of patients)
      await fixtures.grant({ patient, grantee: organization, scopes: 7, block: 100 });
    const { id } = await subscribe(db, {
      owner: organization,
      url: `http://127.0.0.1:${port}/hook`,
      types: ["RECORD_ADDED"],
    });
    subscriptionOf.push(id);
  }
  if (stuck > 0) {
    const organization = await fixtures.organization(newAccount().address, { kind: 2, block: 3 });
    for (const patient of patients)
      await fixtures.grant({ patient, grantee: organization, scopes: 7, block: 100 });
    const { id } = await subscribe(db, { owner: organization, url: "http://127.0.0.1:9/down" });
    // Each patient's chain: its head retried in a day, the rest due but behind it (never claimable), and
    // every live event after them (seqs below the feed's: first in chain order).
    await db.query(
      `INSERT INTO ${db.gateway}.webhook_deliveries
         (subscription_id, seq, event_id, event_type, patient, body, attempts, next_attempt_at)
       SELECT $1, i - $4, 'stuck-' || i, 'RECORD_ADDED', ($2::text[])[1 + i % $3], '{}',
              CASE WHEN i < $3 THEN 5 ELSE 0 END,
              CASE WHEN i < $3 THEN now() + interval '1 day' ELSE now() - interval '1 hour' END
         FROM generate_series(0, $4 - 1) AS i`,
      [id, patients.map((patient) => lower(patient)), patientsCount, stuck],
    );
  }
  const committedAt = new Map<string, number>();
  const received = async () => (await ask<{ count: number }>("count")).count;
  let block = 1_000;
  const commit = async () => {
    const patient = patients[block % patients.length]!;
    const added = await fixtures.record({ patient, author: lower(doctor), type: 1, block: block++ });
    committedAt.set(added.eventId, Date.now());
  };

  // Live, at each rate.
  const live: string[] = [];
  for (const rate of rates) {
    const before = await received();
    const service = harness.start({ senders, pollMs: 200, statsIntervalMs: 5_000 });
    const stopSampling = sampleOutbox(db);
    committedAt.clear();
    const liveStart = Date.now();
    for (let i = 0; i < events; i++) {
      const due = liveStart + (i * 1000) / rate;
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      await commit();
    }
    const offeredFor = (Date.now() - liveStart) / 1000;
    const loadLive = load();
    await eventually(
      async () => (await received()) - before >= events * subscribers,
      "every live delivery",
      600_000,
    );
    const liveSeconds = (Date.now() - liveStart) / 1000;
    const receivedAt = (await ask<{ received: [string, number, number][] }>("dump")).received.filter(([id]) =>
      committedAt.has(id),
    );
    const latencies = sorted(receivedAt.map(([id, at]) => at - committedAt.get(id)!));
    const stages = await stagesOf(db, committedAt, subscriptionOf);
    stopSampling();
    await service.stop();
    live.push(
      `  live at ${rate} events/s (${rate * subscribers} deliveries/s offered, achieved ${(((events - 1) * subscribers) / offeredFor).toFixed(0)}): ${events * subscribers} deliveries in ${liveSeconds.toFixed(1)} s`,
      `    feed commit -> webhook received: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${latencies.at(-1)} ms   (${loadLive})`,
      `    stages p50 / p95: commit -> in the outbox ${stages.fill}; -> first POST started ${stages.queue}; -> received ${stages.send(receivedAt)}`,
    );
  }

  // Backlog.
  const before = await received();
  for (let i = 0; i < events; i++) await commit();
  const backlogStart = Date.now();
  const service = harness.start({ senders, pollMs: 200, statsIntervalMs: 5_000 });
  const stopSampling = sampleOutbox(db);
  await eventually(
    async () => (await received()) - before >= events * subscribers,
    "the backlog drained",
    900_000,
  );
  const backlogSeconds = (Date.now() - backlogStart) / 1000;
  const loadBacklog = load();
  stopSampling();
  await service.stop();

  const lines = [
    "",
    `webhook delivery: ${subscribers} subscribers (one receiver each), ${patientsCount} patients, ${events} events a phase${stuck > 0 ? `; one more subscriber down with ${stuck} deliveries waiting` : ""}`,
    ...live,
    `  backlog: ${events * subscribers} deliveries in ${backlogSeconds.toFixed(1)} s = ${Math.round((events * subscribers) / backlogSeconds)} deliveries/s (fill + send, one instance, ${senders} senders)   (${loadBacklog})`,
    "",
  ];
  console.log(lines.join("\n"));
}

describe("webhook delivery", () => {
  bench("100 subscribers: live latency, then backlog throughput", run, {
    iterations: 1,
    warmupIterations: 0,
    time: 0,
    warmupTime: 0,
  });
});
