// The load test runner: `npm run load:test [-- --scale 0.1 --rate 200 --duration 60 ...]`
//
//   1. the servers: RPC_URL + DATABASE_URL + KAFKA_BROKERS, else a running `npm start` / `npm run stack up`
//      (.cache/stack/endpoints.json), else a stack started for this run;
//   2. the deployment and the population, seeded through ingest and the projector (skipped when done);
//   3. the gateway started with them (or GATEWAY_URL), and a sample of viewers signed in with Sign-In with Ethereum;
//   4. k6 (built on first use), the report in load-tests/results/<timestamp>/ and a short table;
//   5. everything it started, stopped.
// K6_DATA_FILE=<file> skips 1-3: k6 runs on a data file made earlier (another deployment's viewers).
// Exit code: 0 when every target threshold passed, 1 when one failed, 2 when the run itself failed.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join, relative } from "node:path";
import { ConfigError, describeFailure, formatDuration, type MainContext, runMain } from "@carechain/common";
import {
  parseConfig as parseStackConfig,
  type RunningStack,
  type StackConfig,
  startStack,
} from "@carechain/stack";
import { loadEnv, runArgs } from "./config.ts";
import { ensureK6 } from "./k6-binary.ts";
import { runK6 } from "./k6-run.ts";
import { repoRoot, resultsDir, say, seconds } from "./paths.ts";
import { buildReport, formatTable, renderHtml, writeHtml } from "./report.ts";
import { JsonRpc } from "./rpc.ts";
import { type PreparedSystem, prepareSystem } from "./system.ts";
import { type Endpoints, findEndpoints } from "./target.ts";
import { type K6Data, prepareViewers, writeK6Data } from "./viewers.ts";

/**
 * What the gateway's answer cache did during the run (its Prometheus counters): how many requests were
 * answered from it, executed, or not cacheable.
 */
async function answerCacheFigures(metricsUrl: string): Promise<string> {
  let text: string;
  try {
    text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  } catch (error) {
    return `unavailable (${metricsUrl}): ${describeFailure(error)}`;
  }
  const count = (result: string) =>
    Number(
      new RegExp(`^carechain_gateway_answer_cache_total\\{[^}]*result="${result}"[^}]*\\} (\\S+)$`, "m").exec(
        text,
      )?.[1] ?? 0,
    );
  const [hit, miss, bypass] = [count("hit"), count("miss"), count("bypass")];
  const all = hit + miss + bypass;
  return all === 0
    ? `off (no answer cache counts at ${metricsUrl})`
    : `${hit} hits (${((100 * hit) / all).toFixed(1)} %), ${miss} executed, ${bypass} not cacheable`;
}

async function main(ctx: MainContext): Promise<number> {
  const env = loadEnv(ctx.env);
  const args = runArgs(ctx.argv);
  const stackConfig = parseStackConfig(ctx.env);
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const outDir = join(resultsDir, stamp);
  const workDir = join(env.cache, "load-tests", "runs", stamp);
  mkdirSync(outDir, { recursive: true });
  mkdirSync(workDir, { recursive: true });
  const started = Date.now();

  // k6 builds in the background while the system is prepared (minutes on first use, then cached).
  const k6 = ensureK6({ binary: env.k6Binary, cacheDir: env.cache, say });
  k6.catch(() => undefined);

  const load = () =>
    loadavg()
      .map((n) => n.toFixed(2))
      .join(" / ");
  const facts: [string, string][] = [
    ["started", new Date(started).toISOString()],
    ["profile", args.profile],
    [
      "machine",
      `${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GB; load average at start ${load()} (1/5/15 min)`,
    ],
  ];
  let dataFile: string;
  let system: PreparedSystem | undefined;
  let rpcUrl: string | undefined;
  if (env.k6DataFile) {
    dataFile = env.k6DataFile;
    say(`k6 data from ${dataFile} (K6_DATA_FILE): nothing else is prepared`);
    facts.push(["data", dataFile]);
  } else {
    const endpoints = await serversFor(env, stackConfig, workDir, ctx);
    facts.push(["servers", endpoints.source]);
    rpcUrl = endpoints.rpcUrl;
    const rpc = new JsonRpc(endpoints.rpcUrl);
    if (!args.automine) ctx.onStop(() => rpc.call("evm_setAutomine", [true]).catch(() => undefined));
    system = await prepareSystem({
      endpoints,
      cache: env.cache,
      deploymentFile: env.deploymentFile,
      scale: args.scale,
      seed: env.seed,
      mining: args.automine ? "automine" : "bulk",
      answerCache: args.answerCache,
      verify: args.verify,
      workDir,
      say,
      signal: ctx.signal,
      onStop: ctx.onStop,
    });
    const s = system.population.size;
    facts.push(
      [
        "scale",
        `${args.scale} (${s.patients} patients, ${s.doctors} doctors, ${s.grants} grants, ${s.records} records, ${s.readings} readings)`,
      ],
      [
        "seeding",
        system.seeding.transactions > 0
          ? `${system.seeding.transactions} tx at ${system.seeding.txPerSecond.toFixed(0)} tx/s`
          : "already seeded",
      ],
    );

    const gatewayUrl = env.gatewayUrl ?? system.gatewayUrl;
    facts.push(["gateway", gatewayUrl]);
    const data: K6Data = await prepareViewers({
      gatewayUrl,
      rpcUrl: endpoints.rpcUrl,
      deployment: system.deployment,
      population: system.population,
      patients: args.viewers,
      doctors: Math.max(1, Math.round(args.viewers / 2)),
      say,
    });
    // Tokens stay in the cache, not in the results folder one might share.
    dataFile = join(workDir, "k6-data.json");
    writeK6Data(dataFile, data);
  }

  if (args.blockTime !== undefined) {
    if (!rpcUrl)
      throw new ConfigError("--block-time needs the chain the runner prepares (unset K6_DATA_FILE)");
    const rpc = new JsonRpc(rpcUrl);
    // A block every few seconds, as a real chain: anvil builds one block for many writes instead of one per
    // write, which at the reference state size costs about a second of CPU each.
    ctx.onStop(() => rpc.call("evm_setAutomine", [true]).catch(() => undefined));
    await rpc.call("evm_setIntervalMining", [args.blockTime]);
    facts.push([
      "mining during k6",
      `a block every ${args.blockTime} s (interval mining), automine afterwards`,
    ]);
  }

  const binary = await k6;
  facts.push([
    "k6",
    `${binary.version}${binary.buildSeconds ? ` (built in ${binary.buildSeconds.toFixed(0)} s)` : ""}`,
  ]);
  const summaryFile = join(outDir, "summary.json");
  const result = await runK6({
    k6: binary.path,
    dataFile,
    summaryFile,
    profile: args.profile,
    vars: args.vars,
    output: "inherit",
    say,
  });
  facts.push(["k6 run", seconds(result.ms)], ["load average at the end", load()]);
  const gateway = system?.system.services.find((service) => service.name === "gateway");
  if (gateway) facts.push(["answer cache", await answerCacheFigures(`${gateway.healthUrl}/metrics`)]);

  const report = buildReport(result.summary);
  const table = formatTable(report);
  const title = `CareChain load test ${stamp}`;
  writeHtml(join(outDir, "report.html"), renderHtml(report, { title, facts }));
  writeFileSync(join(outDir, "table.txt"), `${table}\n`);
  writeFileSync(join(outDir, "run.json"), `${JSON.stringify({ facts, args, report }, null, 2)}\n`);
  if (system) copyFileSync(system.deploymentFile, join(outDir, "deployment.json"));
  process.stdout.write(`\n${table}\n\n`);
  say(`report: ${relative(repoRoot, join(outDir, "report.html"))} (summary.json, table.txt beside it)`);
  say(`done in ${formatDuration((Date.now() - started) / 1000)}`);
  return report.passed && !result.thresholdsFailed ? 0 : 1;
}

/** The servers to use; a stack is started (and stopped at the end) when none runs. */
async function serversFor(
  env: ReturnType<typeof loadEnv>,
  stackConfig: StackConfig,
  workDir: string,
  ctx: MainContext,
): Promise<Endpoints> {
  const found = findEndpoints(env, env.cache);
  if (found) {
    say(`servers: ${found.source}`);
    return found;
  }
  say("no running stack: starting anvil, PostgreSQL and Kafka for this run (stopped at the end)");
  const dataDir = join(workDir, "stack");
  const stack: RunningStack = await startStack({
    ...stackConfig,
    dataDir,
    stopTimeoutMs: 10_000,
  });
  ctx.onStop(async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  say(`stack ready in ${seconds(stack.startupMs)}`);
  const e = stack.endpoints;
  return {
    rpcUrl: e.rpcUrl,
    databaseUrl: e.databaseUrl,
    kafkaBrokers: e.kafkaBrokers,
    source: stackConfig.rpcUrl
      ? `PostgreSQL and Kafka started for this run; the chain at ${stackConfig.rpcUrl} (RPC_URL)`
      : "a stack started for this run",
  };
}

// A failed run exits 2 (1 is a failed threshold); the stop steps run either way.
runMain(
  (ctx) =>
    main(ctx).catch((error: unknown) => {
      process.stderr.write(`${describeFailure(error)}\n`);
      return 2;
    }),
  { entry: import.meta.url, signalExitCode: 130 },
);
