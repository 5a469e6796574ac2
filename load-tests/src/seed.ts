// The seeder: loads a realistic population (patients, doctors, grants, records, vital readings) through the
// REAL pipeline: transactions to the contracts on anvil, which ingest publishes to Kafka and the projector
// writes to PostgreSQL; it waits until the projections have caught up.
//
//   npm run load:seed -- --scale 0.01 [--automine] [--verify]      (LOAD_SEED=carechain-load by default)
//
// Re-runnable: accounts, record ids and readings derive from the seed; what is already on chain is skipped
// (roles, grants, record counts, device nonces), and a marker per phase skips the checks on the next run.
// It needs a running stack (`npm start` or `npm run stack up`), or RPC_URL, DATABASE_URL and KAFKA_BROKERS.
import { join } from "node:path";
import { ConfigError, formatDuration, type MainContext, runMain } from "@carechain/common";
import { loadEnv, seedArgs } from "./config.ts";
import { say as defaultSay } from "./paths.ts";
import { JsonRpc } from "./rpc.ts";
import { prepareSystem } from "./system.ts";
import { findEndpoints } from "./target.ts";

export { type SeedOptions, type SeedReport, seedChain } from "./seed-chain.ts";

/** `npm run load:seed`: seeds the chain of a running stack through its pipeline, then stops what it started. */
async function main(ctx: MainContext): Promise<number> {
  const env = loadEnv(ctx.env);
  const args = seedArgs(ctx.argv);
  const endpoints = findEndpoints(env, env.cache);
  if (!endpoints) {
    throw new ConfigError(
      "no running stack to seed: start one with `npm start` (or `npm run stack up`) in another terminal, " +
        "or set RPC_URL, DATABASE_URL and KAFKA_BROKERS",
    );
  }
  defaultSay(`servers: ${endpoints.source}`);
  const workDir = join(env.cache, "load-tests", "runs", `seed-${Date.now()}`);
  const rpc = new JsonRpc(endpoints.rpcUrl);
  if (!args.automine) ctx.onStop(() => rpc.call("evm_setAutomine", [true]).catch(() => undefined));
  const started = Date.now();
  const system = await prepareSystem({
    endpoints,
    cache: env.cache,
    deploymentFile: env.deploymentFile,
    scale: args.scale,
    seed: env.seed,
    mining: args.automine ? "automine" : "bulk",
    verify: args.verify,
    workDir,
    say: defaultSay,
    signal: ctx.signal,
    onStop: ctx.onStop,
  });
  const s = system.seeding;
  defaultSay(
    `seeded scale ${args.scale} in ${formatDuration((Date.now() - started) / 1000)}: ${s.transactions} transactions ` +
      `(${s.txPerSecond.toFixed(0)} tx/s while sending, chain part ${formatDuration(s.ms / 1000)}), ` +
      `projections caught up ${formatDuration(system.catchUp.ms / 1000)} after; logs in ${join(workDir, "logs")}`,
  );
  return 0;
}

runMain(main, { entry: import.meta.url, signalExitCode: 130 });
