/**
 * Ingest benchmark: `npm run bench:ingest -w indexer -- --events 100000`.
 * Starts a stack (or uses RPC_URL + KAFKA_BROKERS when both are set), deploys CareChain, generates N events
 * on anvil (submitReadings batches of 100 readings: 100 events per transaction), then backfills them into
 * Kafka with ingest and prints events/s, blocks/s and the peak RSS of this process during the backfill.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createCommon, createLogger } from "@carechain/common";
import {
  parseConfig as parseStackConfig,
  type RunningStack,
  silentLogger,
  stackStateDir,
  startStack,
} from "@carechain/stack";
import { defaultIngestOptions } from "../src/ingest/config.ts";
import { createIngest } from "../src/ingest/service.ts";
import { TestChain } from "../src/ingest/testing/chain.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    "per-tx": { type: "string", default: "100" },
    partitions: { type: "string", default: "3" },
    "max-block-range": { type: "string", default: "2000" },
  },
});
const events = Number(values.events);
const perTx = Math.min(100, Number(values["per-tx"]));
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

async function main(): Promise<void> {
  let stack: RunningStack | undefined;
  let dataDir: string | undefined;
  let rpcUrl = process.env.RPC_URL;
  let brokers = process.env.KAFKA_BROKERS?.split(",");
  if (!rpcUrl || !brokers) {
    const config = parseStackConfig(process.env);
    // Under the repo's cache (as the test stack): the servers' users can write there.
    const dir = join(stackStateDir(config.cacheDir), `bench-ingest-${process.pid}`);
    dataDir = dir;
    // Ctrl-C stops the servers this benchmark started.
    const interrupt = async () => {
      await stack?.stop();
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    };
    process.once("SIGINT", interrupt);
    process.once("SIGTERM", interrupt);
    try {
      stack = await startStack({ ...config, dataDir: dir, log: silentLogger });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    rpcUrl = stack.endpoints.rpcUrl;
    brokers = stack.endpoints.kafkaBrokers;
  }
  try {
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
      contracts: { addresses: deployment.addresses, startBlock: deployment.startBlock },
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
  } finally {
    await stack?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
