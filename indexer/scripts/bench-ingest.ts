/**
 * Ingest benchmark: `npm run bench:ingest -w indexer -- --events 100000`.
 * Uses RPC_URL / KAFKA_BROKERS when set, else starts its own servers; deploys CareChain, generates N events
 * on anvil (submitReadings batches of 100 readings: 100 events per transaction), then backfills them into
 * Kafka with ingest and prints events/s, blocks/s and the peak RSS of this process during the backfill.
 */
import { parseArgs } from "node:util";
import { createCommon, createLogger, runMain } from "@carechain/common";
import { watchedContracts } from "@carechain/contracts";
import { defaultIngestOptions } from "../src/ingest/config.ts";
import { createIngest } from "../src/ingest/service.ts";
import { TestChain } from "../src/ingest/testing/chain.ts";
import { benchStack } from "./bench-stack.ts";

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

runMain(
  async (ctx) => {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        events: { type: "string", default: "100000" },
        "per-tx": { type: "string", default: "100" },
        partitions: { type: "string", default: "3" },
        "max-block-range": { type: "string", default: "2000" },
      },
    });
    const events = Number(values.events);
    const perTx = Math.min(100, Number(values["per-tx"]));
    const { rpcUrl, kafkaBrokers: brokers } = await benchStack(ctx, "bench-ingest");
    const chain = new TestChain(rpcUrl);
    const deployment = await chain.deploy();
    const transactions = Math.ceil(events / perTx);
    const patients = Math.min(20, transactions);
    const generating = performance.now();
    await chain.generateReadings(deployment, {
      patients,
      batches: Math.ceil(transactions / patients),
      perBatch: perTx,
    });
    const head = await chain.head();
    const total = (await chain.logs(deployment)).length;
    const blocks = head - deployment.startBlock + 1;
    console.log(
      `generated ${total} events in ${blocks} blocks in ${((performance.now() - generating) / 1000).toFixed(1)} s`,
    );

    const options = defaultIngestOptions({
      rpcUrl,
      contracts: watchedContracts(deployment),
      kafka: {
        brokers,
        topicPrefix: `bench-${Date.now().toString(36)}`,
        partitions: Number(values.partitions),
      },
    });
    options.maxBlockRange = Number(values["max-block-range"]);
    const common = createCommon("ingest", options, {
      logger: createLogger({ service: "ingest", level: "warn" }),
    });
    const ingest = createIngest(common);
    global.gc?.();
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await ingest.start();
    let failure: unknown;
    ingest.done.catch((error: unknown) => {
      failure = error;
    });
    while ((ingest.status().indexedBlock ?? 0) < head) {
      if (failure) throw failure;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    const published = ingest.status().events;
    await ingest.stop();
    console.log(
      [
        `ingested ${published} events (${blocks} blocks) in ${seconds.toFixed(2)} s`,
        `  events/s: ${Math.round(published / seconds)}`,
        `  blocks/s: ${Math.round(blocks / seconds)}`,
        `  peak RSS: ${mb(peakRss)} (this process: ingest + the benchmark's viem client)`,
        `  ingest CPU: ${cpuSeconds.toFixed(2)} s (${Math.round((cpuSeconds * 1e6) / published)} µs per event; anvil and Kafka run beside it on the same cores)`,
      ].join("\n"),
    );
    if (published !== total) throw new Error(`published ${published} of ${total} events`);
    return 0;
  },
  { entry: import.meta.url, signalExitCode: 130 },
);
