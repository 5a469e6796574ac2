/**
 * Projector throughput benchmark: `npm run bench:project -w indexer -- --events 100000 [--partitions 3]`.
 * Produces N synthetic valid envelopes (the test generator: every event type, ~5% duplicates, reorgs) to a
 * fresh topic in Kafka transactions, then starts the projector on a fresh schema and measures how long it
 * takes to drain the lag, events/s, and the peak RSS of this process. Uses DATABASE_URL / KAFKA_BROKERS when
 * set, else starts its own stack (PostgreSQL + Kafka) in a fresh folder and stops it afterwards.
 */
import { parseArgs } from "node:util";
import { createCommon, createSilentLogger, runMain } from "@carechain/common";
import { Kafka, logLevel } from "kafkajs";
import { createPool, ident } from "../src/database/pool.ts";
import { envelopeMessage } from "../src/kafka/messages.ts";
import { topicNames } from "../src/kafka/topics.ts";
import { createProjector, type ProjectorOptions } from "../src/projector/service.ts";
import { generateEvents } from "../src/projector/testing/generate.ts";
import { sendCommitted } from "../src/projector/testing/produce.ts";
import { benchStack } from "./bench-stack.ts";

runMain(
  async (ctx) => {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        events: { type: "string", default: "100000" },
        partitions: { type: "string", default: "3" },
        seed: { type: "string", default: "42" },
      },
    });
    const events = Number(values.events);
    const partitions = Number(values.partitions);
    const { databaseUrl, kafkaBrokers } = await benchStack(ctx, "bench-project");
    const run = `bench${Date.now().toString(36)}`;
    const options: ProjectorOptions = {
      databaseUrl,
      kafkaBrokers,
      topicPrefix: run,
      groupId: `${run}-projector`,
      schemaBase: run,
    };
    const topic = topicNames(run).events;

    let t = performance.now();
    const stream = generateEvents(Number(values.seed), events, {
      accounts: Math.max(40, Math.floor(events / 50)),
    });
    const messages = stream.map(envelopeMessage);
    const generateSeconds = (performance.now() - t) / 1000;

    t = performance.now();
    const kafka = new Kafka({ clientId: run, brokers: kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    const producer = kafka.producer({
      transactionalId: `${run}-tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    for (let i = 0; i < messages.length; i += 2_000) {
      const transaction = await producer.transaction();
      await sendCommitted(transaction, admin, topic, messages.slice(i, i + 2_000));
    }
    await producer.disconnect();
    await admin.disconnect();
    const produceSeconds = (performance.now() - t) / 1000;

    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    let batches = 0;
    const projector = createProjector(createCommon("bench", options, { logger: createSilentLogger() }), {
      onBatch: () => {
        batches++;
      },
    });
    t = performance.now();
    await projector.start();
    const startSeconds = (performance.now() - t) / 1000;
    await projector.waitForCatchUp({ timeoutMs: 3_600_000, pollMs: 100 });
    const drainSeconds = (performance.now() - t) / 1000;
    clearInterval(sampler);
    await projector.stop();

    const pool = createPool(databaseUrl, { max: 1 });
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${ident(`${run}_p1`)}.events`);
    const row = (label: string, value: string) => console.log(`${label.padEnd(34)}${value}`);
    row("messages produced", `${events} (${rows[0].n} distinct events applied; rest duplicates/retractions)`);
    row("partitions", String(partitions));
    row("generate / produce", `${generateSeconds.toFixed(1)} s / ${produceSeconds.toFixed(1)} s`);
    row("projector start (migrate + join)", `${startSeconds.toFixed(2)} s`);
    row("time to drain the lag", `${drainSeconds.toFixed(2)} s (${batches} batches)`);
    row("throughput", `${Math.round(events / drainSeconds)} messages/s`);
    row(
      "peak RSS (this process)",
      `${Math.round(peakRss / 1024 / 1024)} MiB (generator and messages included)`,
    );
    for (const schema of [`${run}_p1`, `${run}_meta`, run])
      await pool.query(`DROP SCHEMA ${ident(schema)} CASCADE`);
    await pool.end();
    return 0;
  },
  { entry: import.meta.url, signalExitCode: 130 },
);
