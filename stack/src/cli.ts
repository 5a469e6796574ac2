// CLI of the local stack:
//   up      start anvil, PostgreSQL and Kafka, print where they listen, stay in the foreground;
//           Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every process it started
//   down    stop a running `up` (found through its pid file)
//   status  health of each server of the running `up`
import { rmSync } from "node:fs";
import { relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
// The CLI runs like every CareChain entry point; the stack library itself depends on nothing of ours.
import { type MainContext, runMain } from "@carechain/common";
import { checkChain } from "./anvil.ts";
import { parseConfig, repoRoot, type StackConfig } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { checkKafka } from "./kafka.ts";
import { createLogger } from "./logger.ts";
import { checkPostgres } from "./postgres.ts";
import { isAlive } from "./processes.ts";
import { reapStaleRun } from "./run-state.ts";
import { type RunningStack, type ServerInfo, startStack } from "./stack.ts";
import {
  endpointsFile,
  readEndpointsFile,
  removeStateFiles,
  runningUpPid,
  upDataDir,
  writeEndpointsFile,
  writePidFile,
} from "./state-files.ts";

const log = createLogger();
const USAGE = "usage: stack <up|down|status>  (npm run stack -- up)";

async function up(config: StackConfig, ctx: MainContext): Promise<number> {
  const other = runningUpPid(config.cacheDir);
  if (other) {
    log.error(`the stack is already running (pid ${other}): stop it with npm run stack down`);
    return 1;
  }
  const dataDir = upDataDir(config.cacheDir);
  const reaped = reapStaleRun(dataDir);
  if (reaped.length > 0) log.warn(`killed servers a previous run left behind (pids ${reaped.join(", ")})`);
  rmSync(dataDir, { recursive: true, force: true });
  writePidFile(config.cacheDir);

  let stack: RunningStack | undefined;
  // A signal aborts the start (startStack then stops what it started) or stops the running servers.
  const starting = startStack({ ...config, dataDir, log, signal: ctx.signal });
  ctx.onStop(async (reason) => {
    if (reason !== "done") log.info(`${reason}: stopping every server`);
    await starting.catch(() => undefined);
    await stack?.stop();
    removeStateFiles(config.cacheDir);
    log.info("every server stopped");
  });
  try {
    stack = await starting;
  } catch (error) {
    removeStateFiles(config.cacheDir);
    if (ctx.signal.aborted) return 0;
    throw error;
  }
  writeEndpointsFile(config.cacheDir, { ...stack.endpoints, pid: process.pid, servers: stack.servers });
  for (const server of stack.servers) process.stdout.write(`${describe(server)}\n`);
  process.stdout.write(
    `stack ready in ${seconds(stack.startupMs)}; endpoints in ${shortPath(endpointsFile(config.cacheDir))}` +
      ` (pid ${process.pid}; Ctrl-C stops every server)\n`,
  );
  // In the foreground until a signal (runMain runs the stop step) or a server that keeps crashing: then
  // the others are stopped and the exit code is 1.
  const crash = await new Promise<Error>((resolve) => stack!.onCrash(resolve));
  log.error(`${crash.message}\nstopping the other servers`);
  return 1;
}

async function down(config: StackConfig): Promise<number> {
  const pid = runningUpPid(config.cacheDir);
  if (!pid) {
    process.stdout.write("the stack is not running\n");
    return 0;
  }
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + 60_000;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) {
    process.kill(pid, "SIGKILL");
    await sleep(200);
    const reaped = reapStaleRun(upDataDir(config.cacheDir));
    process.stdout.write(
      `stack up (pid ${pid}) did not stop in time: killed it and its servers ${reaped.join(", ")}\n`,
    );
    return 1;
  }
  process.stdout.write(`stopped the stack (pid ${pid})\n`);
  return 0;
}

async function status(config: StackConfig): Promise<number> {
  const file = readEndpointsFile(config.cacheDir);
  if (!file) {
    process.stdout.write("the stack is not running (start it with npm run stack -- up)\n");
    return 1;
  }
  const checks: [string, Promise<string>][] = [
    ["anvil", checkChain(file.rpcUrl).then((chain) => `chain ${chain.chainId}, block ${chain.blockNumber}`)],
    ["postgres", checkPostgres(file.databaseUrl).then(() => "select 1 answers")],
    ["kafka", checkKafka(file.kafkaBrokers).then((topics) => `${topics.length} topics`)],
  ];
  let healthy = true;
  for (const [name, check] of checks) {
    const server = file.servers.find((s) => s.name === name);
    const line = await check.then(
      (detail) => `ok    ${detail}`,
      (error: unknown) => {
        healthy = false;
        return `FAIL  ${error instanceof Error ? error.message : String(error)}`;
      },
    );
    process.stdout.write(`${name.padEnd(9)} ${line}  (${server?.address ?? "?"})\n`);
  }
  process.stdout.write(`stack up pid ${file.pid}; data in ${file.dataDir}\n`);
  return healthy ? 0 : 1;
}

function describe(server: ServerInfo): string {
  const pid = server.pid === undefined ? "" : `pid ${server.pid}  `;
  return `${server.name.padEnd(9)} ${server.address}  ${pid}${seconds(server.startupMs)}  ${server.note}`;
}

/** Relative to the repo when inside it, else absolute. */
function shortPath(path: string): string {
  const inRepo = relative(repoRoot, path);
  return inRepo.startsWith("..") ? path : inRepo;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

runMain(
  async (ctx) => {
    const config = parseConfig(ctx.env);
    const { positionals } = parseArgs({ args: ctx.argv, allowPositionals: true, strict: true });
    switch (positionals[0] ?? "up") {
      case "up":
        return up(config, ctx);
      case "down":
        return down(config);
      case "status":
        return status(config);
      default:
        throw new ConfigError(USAGE);
    }
  },
  { entry: import.meta.url },
);
