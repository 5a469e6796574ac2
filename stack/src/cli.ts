// CLI of the local stack:
//   up      start anvil, PostgreSQL and Kafka, print where they listen, stay in the foreground;
//           Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every process it started
//   down    stop a running `up` (found through its pid file)
//   status  health of each server of the running `up`
import { rmSync } from "node:fs";
import { relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkChain } from "./anvil.ts";
import { parseConfig, repoRoot, type StackConfig } from "./config.ts";
import { ConfigError, StackError } from "./errors.ts";
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

async function up(config: StackConfig): Promise<number | undefined> {
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

  const abort = new AbortController();
  let stack: RunningStack | undefined;
  let shuttingDown: Promise<never> | undefined;
  const starting = startStack({ ...config, dataDir, log, signal: abort.signal });
  const shutdown = (code: number) => {
    shuttingDown ??= (async () => {
      abort.abort();
      await starting.catch(() => undefined); // a cancelled start stops what it started itself
      await stack?.stop();
      removeStateFiles(config.cacheDir);
      log.info("every server stopped");
      process.exit(code);
    })();
    return shuttingDown;
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (shuttingDown) return log.info("already stopping");
      log.info(`${signal}: stopping every server`);
      void shutdown(0);
    });
  }

  try {
    stack = await starting;
  } catch (error) {
    if (abort.signal.aborted) await shuttingDown;
    removeStateFiles(config.cacheDir);
    throw error;
  }
  stack.onCrash((error) => {
    log.error(`${error.message}\nstopping the other servers`);
    void shutdown(1);
  });
  writeEndpointsFile(config.cacheDir, { ...stack.endpoints, pid: process.pid, servers: stack.servers });
  for (const server of stack.servers) process.stdout.write(`${describe(server)}\n`);
  process.stdout.write(
    `stack ready in ${seconds(stack.startupMs)}; endpoints in ${shortPath(endpointsFile(config.cacheDir))}` +
      ` (pid ${process.pid}; Ctrl-C stops every server)\n`,
  );
  // Stays in the foreground: the server processes keep the event loop alive until shutdown exits.
  return undefined;
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

async function main(command: string | undefined): Promise<number | undefined> {
  const config = parseConfig(process.env);
  switch (command ?? "up") {
    case "up":
      return up(config);
    case "down":
      return down(config);
    case "status":
      return status(config);
    default:
      throw new ConfigError(USAGE);
  }
}

main(process.argv[2]).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof StackError) {
      log.error(`${error.message}${error.retryable ? "\n(this may work if tried again)" : ""}`);
      process.exit(error instanceof ConfigError ? 2 : 1);
    }
    log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
