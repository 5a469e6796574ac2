/**
 * `npm start`: CareChain on one machine. Starts the local servers (data kept between starts), deploys the
 * contracts once, starts ingest, projector, the three subgraphs and the gateway as processes of their own,
 * seeds the demo, waits until the projections have caught up, prints where everything is and how to query
 * it, then shows one status line until Ctrl-C, which stops everything in reverse order. A process that
 * crashes is restarted with backoff (the status line shows it); one that crashes too often stops everything.
 *
 *   npm start [-- --reset] [-- --no-demo]
 *
 * Exit codes: 0 after Ctrl-C / SIGTERM, 1 when something failed or crashed, 2 on invalid configuration.
 */
import { rmSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseError, ConfigError } from "@carechain/common";
import {
  createLogger,
  isAlive,
  readRunState,
  reapStaleRun,
  repoRoot,
  ConfigError as StackConfigError,
  StackError,
  StartAbortedError,
  waitUntilGone,
} from "@carechain/stack";
import { loadSystemConfig, type SystemConfig, USAGE } from "./config.ts";
import { demoAccountList, demoAccounts } from "./demo/accounts.ts";
import { StatusLine } from "./status-line.ts";
import { type RunningSystem, startSystem } from "./system.ts";
import { readSystemFile, removeSystemFile, writeSystemFile } from "./system-file.ts";

const log = createLogger("carechain");
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const shortPath = (path: string) => {
  const rel = relative(repoRoot, path);
  return rel.startsWith("..") ? path : rel;
};

async function main(): Promise<number | undefined> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadSystemConfig(process.env, argv);
  const running = readSystemFile(config.stateDir);
  const starting = readRunState(config.dataDir)?.ownerPid;
  if (running || (starting !== undefined && starting !== process.pid && isAlive(starting))) {
    const what = running ? `pid ${running.pid}, gateway ${running.gatewayUrl}` : `pid ${starting}, starting`;
    throw new ConfigError(`CareChain is already running (npm start, ${what}).`, {
      details: "Stop it with Ctrl-C in its terminal (or kill its pid) first.",
    });
  }
  if (config.reset) await reset(config);

  const abort = new AbortController();
  const statusLine = new StatusLine(process.stdout);
  let system: RunningSystem | undefined;
  let shuttingDown: Promise<never> | undefined;
  const shutdown = (code: number, why: string) => {
    shuttingDown ??= (async () => {
      statusLine.clear();
      log.info(`${why}: stopping everything (gateway, subgraphs, projector, ingest, then the servers)`);
      abort.abort();
      const t0 = Date.now();
      await system?.stop();
      removeSystemFile(config.stateDir);
      log.info(`stopped in ${seconds(Date.now() - t0)}`);
      process.exit(code);
    })();
    return shuttingDown;
  };
  let firstSignalAt = 0;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      if (shuttingDown || abort.signal.aborted) {
        // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): only a later one counts.
        if (Date.now() - firstSignalAt > 1_000) log.info("already stopping");
        return;
      }
      firstSignalAt = Date.now();
      if (!system) {
        statusLine.clear();
        log.info(`${signal}: cancelling the start, stopping what was started`);
        abort.abort();
        return;
      }
      void shutdown(0, signal);
    });
  }

  try {
    // Restarts are logged while the status line shows: each log line first ends the in-place line.
    const clearing =
      (write: (message: string) => void) =>
      (message: string): void => {
        statusLine.clear();
        write(message);
      };
    const systemLog = { info: clearing(log.info), warn: clearing(log.warn), error: clearing(log.error) };
    system = await startSystem({ config, log: systemLog, signal: abort.signal });
  } catch (error) {
    if (abort.signal.aborted) {
      log.info("start cancelled; everything it started was stopped");
      return 0;
    }
    throw error;
  }
  system.onCrash((error) => {
    statusLine.clear();
    log.error(`${error.message}\n`);
    void shutdown(1, `${error.server} kept crashing`);
  });

  writeSystemFile(config.stateDir, {
    pid: process.pid,
    gatewayUrl: system.gatewayUrl,
    rpcUrl: system.endpoints.rpcUrl,
    chainId: system.endpoints.chainId,
    deploymentFile: system.deploymentFile,
    startedAt: new Date().toISOString(),
  });
  process.stdout.write(readyText(system, config));

  // One status line until stopped; the timers keep the process alive.
  const tick = async () => {
    if (shuttingDown) return;
    const sample = await system!.sampleStatus().catch(() => undefined);
    if (sample && !shuttingDown) statusLine.update(sample);
  };
  await tick();
  setInterval(() => void tick(), statusLine.isTTY ? 1_000 : 2_000);
  return undefined;
}

/** `--reset`: stops whatever a killed earlier start left behind, then deletes the kept data. */
async function reset(config: SystemConfig): Promise<void> {
  const killed = [...reapStaleRun(config.dataDir), ...reapStaleRun(join(config.dataDir, "services"))];
  if (killed.length > 0) {
    log.warn(`stopped processes an earlier start left behind (pids ${killed.join(", ")})`);
    await waitUntilGone(killed);
  }
  rmSync(config.dataDir, { recursive: true, force: true });
  log.info(`--reset: deleted ${shortPath(config.dataDir)} (chain, database, Kafka): starting from nothing`);
}

function readyText(system: RunningSystem, config: SystemConfig): string {
  const t = system.timings;
  const gql = `${system.gatewayUrl}/graphql`;
  const names = config.names;
  const own = (name: string) => (system.stack?.servers.find((s) => s.name === name)?.pid ? "" : " (given)");
  const lines = [
    "",
    `CareChain is ready in ${seconds(t.totalMs)} (servers ${seconds(t.serversMs)}, contracts ${seconds(
      t.deployMs,
    )}, services ${seconds(t.servicesMs)}, demo ${seconds(t.demoMs)}, catch-up ${seconds(t.catchUpMs)})`,
    "",
    `  GraphQL gateway  ${gql}   (subscriptions: ${gql.replace(/^http/, "ws")})`,
    `  chain            ${system.endpoints.rpcUrl}${own("anvil")}  chain ${system.endpoints.chainId}, contracts in ${shortPath(
      system.deploymentFile,
    )}${system.deployed ? " (deployed now)" : ""}`,
    `  PostgreSQL       ${redactUrl(system.endpoints.databaseUrl)}${own("postgres")}  views in schema ${names.projectionSchemaBase}`,
    `  Kafka            ${system.endpoints.kafkaBrokers.join(",")}${own("kafka")}  topic ${names.topicPrefix}.events.v1`,
    `  logs             ${shortPath(system.logsDir)}/`,
    "",
  ];
  if (system.demo) {
    const seeded =
      system.demo.transactions > 0
        ? `seeded now: ${system.demo.transactions} transactions in ${seconds(system.demo.ms)}`
        : "on chain from an earlier start";
    lines.push(
      `Demo accounts (${seeded}). Keys are anvil's well-known test keys: index N below; never use them on a real network.`,
      "",
      `  ${"name".padEnd(16)}${"role".padEnd(21)}${"address".padEnd(44)}index  what it does`,
    );
    for (const a of demoAccountList) {
      if (a.name === "admin" && config.deployerKey.toLowerCase() !== a.privateKey.toLowerCase()) continue;
      lines.push(
        `  ${a.name.padEnd(16)}${a.role.padEnd(21)}${a.address.padEnd(44)}${String(a.anvilIndex).padEnd(7)}${a.story}`,
      );
    }
    const alice = demoAccounts.alice.address;
    lines.push(
      "",
      "Try it (signs in with the account's key through the gateway, runs the named operation, prints JSON):",
      "",
      `  npm run query -- --as dr-house PatientFetch --address ${alice}`,
      "      alice's records (a note and its amendment, a lab result relayed by st-mary) and vitals;",
      "      her grants are hers alone: FORBIDDEN, with the rest of the answer intact",
      `  npm run query -- --as acme-insurance PatientFetch --address ${alice}`,
      "      the insurer's narrow grant (READ_RECORDS): records yes, vitals FORBIDDEN",
      `  npm run query -- --as dr-grey PatientFetch --address ${alice}`,
      "      alice revoked dr-grey: the whole patient is FORBIDDEN",
      `  npm run query -- --as alice PatientFetch --address ${alice}`,
      "      alice herself: everything, grants included",
      `  npm run query -- --as dr-house DoctorFetch --address ${demoAccounts.drHouse.address}`,
      "      dr-house's own patients",
      "",
    );
  } else {
    lines.push(
      "No demo seeded. Query the gateway with any key: npm run query -- --as 0x<private key> Me",
      "",
    );
  }
  lines.push(
    "Ctrl-C stops everything. The next npm start continues with the same data; npm start -- --reset starts over.",
    "",
  );
  return `${lines.join("\n")}\n`;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password && parsed.password !== "postgres") parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof StartAbortedError) {
      log.info(error.message);
      process.exit(0);
    }
    if (error instanceof BaseError || error instanceof StackError) {
      const retry = error.retryable ? "\n(this may work if tried again)" : "";
      log.error(`${error.message}${retry}`);
      process.exit(error instanceof ConfigError || error instanceof StackConfigError ? 2 : 1);
    }
    log.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
