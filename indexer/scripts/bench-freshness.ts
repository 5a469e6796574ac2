/**
 * End-to-end freshness: `npx tsx indexer/scripts/bench-freshness.ts [--transactions 50]`. Uses RPC_URL /
 * DATABASE_URL / KAFKA_BROKERS when set, else starts its own servers; deploys CareChain on anvil, runs ingest (0 confirmations) and the projector, then sends readings one at a
 * time and measures, for each, the time from sending the transaction (anvil mines it at once) until its
 * event is readable in PostgreSQL through the gateway's views. Prints p50 / p95 / max.
 */
import { parseArgs } from "node:util";
import { createCommon, createSilentLogger, runMain } from "@carechain/common";
import { vitalsMonitorAbi, watchedContracts } from "@carechain/contracts";
import { encodeFunctionData } from "viem";
import { createPool, ident } from "../src/database/pool.ts";
import { defaultIngestOptions } from "../src/ingest/config.ts";
import { createIngest } from "../src/ingest/service.ts";
import { TestChain } from "../src/ingest/testing/chain.ts";
import { createProjector } from "../src/projector/service.ts";
import { benchStack } from "./bench-stack.ts";

runMain(
  async (ctx) => {
    const { values } = parseArgs({
      args: ctx.argv,
      options: {
        transactions: { type: "string", default: "50" },
        "poll-ms": { type: "string", default: "100" },
      },
    });
    const count = Number(values.transactions);
    const { rpcUrl, databaseUrl, kafkaBrokers } = await benchStack(ctx, "bench-freshness");
    const run = `fresh${Date.now().toString(36)}`;
    const chain = new TestChain(rpcUrl);
    const deployment = await chain.deploy();
    const ingestOptions = defaultIngestOptions({
      rpcUrl,
      contracts: watchedContracts(deployment),
      kafka: { brokers: kafkaBrokers, topicPrefix: run, partitions: 3 },
    });
    ingestOptions.pollIntervalMs = Number(values["poll-ms"]);
    const quiet = { logger: createSilentLogger() };
    const ingest = createIngest(createCommon("ingest", ingestOptions, quiet));
    await ingest.start();
    const projectorOptions = { databaseUrl, kafkaBrokers, topicPrefix: run, groupId: run, schemaBase: run };
    const projector = createProjector(createCommon("projector", projectorOptions, quiet));
    await projector.start();

    const patient = await chain.fundedAccount();
    const device = await chain.fundedAccount();
    await chain.registerPatientWithDevice(deployment, patient, device);
    const VitalsMonitor = deployment.contracts.VitalsMonitor.address;
    const pool = createPool(databaseUrl, { max: 1 });
    const readable = async (txHash: string) =>
      ((await pool.query(`SELECT 1 FROM ${ident(run)}.events WHERE tx_hash = $1`, [txHash])).rowCount ?? 0) >
      0;

    const samples: number[] = [];
    for (let i = 0; i < count + 3; i++) {
      const data = encodeFunctionData({
        abi: vitalsMonitorAbi,
        functionName: "submitReading",
        args: [BigInt(Math.floor(Date.now() / 1000) - 60), 120 + (i % 20), 80],
      });
      const sent = performance.now();
      const [hash] = await chain.sendAll(device, [{ to: VitalsMonitor, data }]);
      while (!(await readable(hash!.toLowerCase()))) await new Promise((resolve) => setTimeout(resolve, 2));
      if (i >= 3) samples.push(performance.now() - sent); // the first few warm up connections
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 200)); // decorrelate from polling
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    console.log(
      `transactions                 ${samples.length} (ingest polls every ${values["poll-ms"]} ms)`,
    );
    console.log(
      `freshness p50 / p95 / max    ${at(0.5).toFixed(0)} / ${at(0.95).toFixed(0)} / ${at(1).toFixed(0)} ms`,
    );
    await pool.end();
    await projector.stop();
    await ingest.stop();
    return 0;
  },
  { entry: import.meta.url, signalExitCode: 130 },
);
