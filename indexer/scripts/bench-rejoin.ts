/**
 * How long a projector restarted after `kill -9` waits before its first batch, by Kafka session timeout:
 * `npx tsx indexer/scripts/bench-rejoin.ts [--sessions 30000,6000] [--rounds 2]`.
 * Per round: a projector process consumes, is killed with SIGKILL (it never leaves its group), a new one is
 * spawned at once with the same group, events are produced, and the time from the spawn to the first event
 * applied is printed; a clean start (a fresh group, nobody to wait for) gives the process's own start time.
 * Uses DATABASE_URL / KAFKA_BROKERS when set, else starts its own servers in a fresh folder.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runMain } from "@carechain/common";
import { Kafka, logLevel } from "kafkajs";
import { createPool, ident } from "../src/database/pool.ts";
import { envelopeMessage } from "../src/kafka/messages.ts";
import { topicNames } from "../src/kafka/topics.ts";
import { projectorEnvironment } from "../src/projector/config.ts";
import { generateEvents } from "../src/projector/testing/generate.ts";
import { sendCommitted } from "../src/projector/testing/produce.ts";
import { benchStack } from "./bench-stack.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const main = fileURLToPath(new URL("../src/projector/main.ts", import.meta.url));

runMain(
  async (ctx) => {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        sessions: { type: "string", default: "30000,6000" },
        rounds: { type: "string", default: "2" },
      },
    });
    const sessions = values.sessions.split(",").map(Number);
    const rounds = Number(values.rounds);
    const { databaseUrl, kafkaBrokers } = await benchStack(ctx, "bench-rejoin");
    const run = `rejoin${Date.now().toString(36)}`;
    const topic = topicNames(run).events;
    const kafka = new Kafka({ clientId: run, brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer({
      transactionalId: `${run}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const pool = createPool(databaseUrl, { max: 2 });
    const children: ChildProcess[] = [];
    const stream = generateEvents(7, 20_000, { duplicates: 0, reorgs: 0 });
    let sent = 0;

    const produce = async (count: number) => {
      const transaction = await producer.transaction();
      await sendCommitted(transaction, admin, topic, stream.slice(sent, sent + count).map(envelopeMessage));
      sent += count;
    };

    const startProjector = (base: string, groupId: string, sessionTimeoutMs: number) => {
      const env = projectorEnvironment({
        DATABASE_URL: databaseUrl,
        KAFKA_BROKERS: kafkaBrokers.join(","),
        KAFKA_TOPIC_PREFIX: run,
        KAFKA_GROUP_ID: groupId,
        PROJECTION_SCHEMA_BASE: base,
        PROJECTOR_HEALTH_PORT: 0,
        PROJECTOR_SESSION_TIMEOUT_MS: sessionTimeoutMs,
        LOG_LEVEL: "fatal",
      });
      const child = spawn(process.execPath, ["--import", "tsx", main], {
        cwd: repo,
        env: { PATH: ctx.env.PATH, ...env },
        stdio: ["ignore", "ignore", "inherit"],
      });
      children.push(child);
      return child;
    };
    const killChildren = () => {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    };
    ctx.onStop(killChildren); // interrupted: no projector outlives the benchmark

    const appliedCount = async (base: string) => {
      const { rows } = await pool
        .query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(`${base}_p1`)}.events`)
        .catch(() => ({ rows: [{ n: 0 }] }));
      return rows[0]!.n;
    };

    /** Milliseconds from `since` until the schema holds more than `count` events. */
    const untilApplied = async (base: string, count: number, since: number) => {
      for (;;) {
        if ((await appliedCount(base)) > count) return performance.now() - since;
        if (performance.now() - since > 120_000) throw new Error("no batch within 120 s");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    try {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      await producer.connect();
      console.log("session_ms  round  clean_start_ms  restart_after_kill9_ms");
      for (const session of sessions) {
        for (let round = 1; round <= rounds; round++) {
          const base = `${run}_${session}_${round}`;
          const group = `${base}-group`;
          // A clean start: nobody in the group.
          await produce(30);
          let spawned = performance.now();
          const first = startProjector(base, group, session);
          const clean = await untilApplied(base, 0, spawned);
          // Let it settle in the group, then kill -9: its member stays until the session expires.
          await new Promise((resolve) => setTimeout(resolve, 3_000));
          first.kill("SIGKILL");
          await once(first, "exit");
          const before = await appliedCount(base);
          spawned = performance.now();
          const second = startProjector(base, group, session);
          await produce(30);
          const restart = await untilApplied(base, before, spawned);
          second.kill("SIGTERM");
          await once(second, "exit");
          console.log(
            `${String(session).padStart(10)}  ${String(round).padStart(5)}  ${clean.toFixed(0).padStart(14)}  ${restart.toFixed(0).padStart(22)}`,
          );
        }
      }
    } finally {
      killChildren();
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
      const { rows } = await pool.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`,
        [`${run}\\_%`],
      );
      for (const { nspname } of rows) await pool.query(`DROP SCHEMA IF EXISTS ${ident(nspname)} CASCADE`);
      await pool.end();
    }
    return 0;
  },
  { entry: import.meta.url, signalExitCode: 130 },
);
