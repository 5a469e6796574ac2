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
import { ConfigError, type MainContext, NonRetryableError, RetryableError, runMain } from "@carechain/common";
import {
  createLogger,
  isAlive,
  readRunState,
  reapStaleRun,
  repoRoot,
  type ServerExitedError,
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

async function main(ctx: MainContext): Promise<number> {
  const argv = ctx.argv;
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadSystemConfig(ctx.env, argv);
  const running = readSystemFile(config.stateDir);
  const starting = readRunState(config.dataDir)?.ownerPid;
  if (running || (starting !== undefined && starting !== process.pid && isAlive(starting))) {
    const what = running ? `pid ${running.pid}, gateway ${running.gatewayUrl}` : `pid ${starting}, starting`;
    throw new ConfigError(`CareChain is already running (npm start, ${what}).`, {
      details: "Stop it with Ctrl-C in its terminal (or kill its pid) first.",
    });
  }
  if (config.reset) await reset(config);

  const statusLine = new StatusLine(process.stdout);
  // Restarts are logged while the status line shows: each log line first ends the in-place line.
  const clearing =
    (write: (message: string) => void) =>
    (message: string): void => {
      statusLine.clear();
      write(message);
    };
  const systemLog = { info: clearing(log.info), warn: clearing(log.warn), error: clearing(log.error) };
  // A signal aborts the start-up (startSystem then stops what it started) or stops the running system.
  const startup = startSystem({ config, log: systemLog, signal: ctx.signal });
  let why = "";
  ctx.onStop(async (reason) => {
    statusLine.clear();
    const system = await startup.catch(() => undefined);
    if (!system) return log.info("start cancelled; everything it started was stopped");
    log.info(
      `${why || reason}: stopping everything (web, delivery, gateway, subgraphs, projector, ingest, then the servers)`,
    );
    const t0 = Date.now();
    await system.stop();
    removeSystemFile(config.stateDir);
    log.info(`stopped in ${seconds(Date.now() - t0)}`);
  });
  const system = await startup.catch((error: unknown) => {
    if (error instanceof StartAbortedError) return undefined;
    throw error instanceof StackError ? asCommonError(error) : error;
  });
  if (!system) return 0;

  writeSystemFile(config.stateDir, {
    pid: process.pid,
    gatewayUrl: system.gatewayUrl,
    rpcUrl: system.endpoints.rpcUrl,
    chainId: system.endpoints.chainId,
    deploymentFile: system.deploymentFile,
    startedAt: new Date().toISOString(),
  });
  process.stdout.write(readyText(system, config));

  // One status line until stopped (a signal: runMain runs the stop step) or until a crash stops everything.
  let crashed = false;
  const tick = async () => {
    if (crashed) return;
    const sample = await system.sampleStatus().catch(() => undefined);
    if (sample && !crashed) statusLine.update(sample);
  };
  await tick();
  setInterval(() => void tick(), statusLine.isTTY ? 1_000 : 2_000);
  const error = await new Promise<ServerExitedError>((resolve) => system.onCrash(resolve));
  crashed = true;
  statusLine.clear();
  log.error(`${error.message}\n`);
  why = `${error.server} kept crashing`;
  return 1;
}

/** The stack's errors as common's, so that runMain prints them by message, with the right exit code. */
function asCommonError(error: StackError): Error {
  if (error instanceof StackConfigError) return new ConfigError(error.message);
  const retry = error.retryable ? "\n(this may work if tried again)" : "";
  return new (error.retryable ? RetryableError : NonRetryableError)(`${error.message}${retry}`);
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
    `  web app          ${system.webUrl}   (connect a wallet on chain ${system.endpoints.chainId})`,
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
      "  npm run example:insurer",
      "      acme-insurance's webhook receiver: an API key, a subscription, each signed event it may see",
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

runMain(main, { entry: import.meta.url });
