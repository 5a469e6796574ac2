// The system under test as child processes started through their own entry points (ingest, projector,
// gateway), each in its own process group with its output in a log file, stopped with SIGTERM (SIGKILL
// after a grace period). Every process started here is stopped when the parent exits, whatever happens.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { NonRetryableError, sleep } from "@carechain/common";
import { repoRoot, type Say, seconds } from "./paths.ts";

export class ServiceError extends NonRetryableError {}

export type Service = {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** The exit code once it has exited (undefined while it runs). */
  exitCode: () => number | null | undefined;
  stop: () => Promise<void>;
};

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
}

/** Stops every service this process started (Ctrl-C): SIGTERM, SIGKILL after 10 s. */
export async function stopAllServices(): Promise<void> {
  const children = [...running];
  for (const child of children) signal(child, "SIGTERM");
  const deadline = Date.now() + 10_000;
  while (running.size > 0 && Date.now() < deadline) await sleep(100);
  for (const child of running) signal(child, "SIGKILL");
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new ServiceError("no TCP port from listen(0)");
  return address.port;
}

/** Starts `tsx <entry> ...args` from the repository root and waits until `ready()` answers true. */
export async function startService(spec: {
  name: string;
  /** Entry file relative to the repository root. */
  entry: string;
  args?: string[];
  env: Record<string, string>;
  logFile: string;
  ready: () => Promise<boolean>;
  timeoutMs?: number;
  say: Say;
}): Promise<Service> {
  installExitHook();
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, "a");
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--import", "tsx", join(repoRoot, spec.entry), ...(spec.args ?? [])],
    {
      cwd: repoRoot,
      env: { ...inheritedEnv(), ...spec.env },
      stdio: ["ignore", log, log],
      detached: true,
    },
  );
  closeSync(log);
  running.add(child);
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      exitCode = code;
      running.delete(child);
      resolve(code);
    });
  });
  const service: Service = {
    name: spec.name,
    pid: child.pid!,
    logFile: spec.logFile,
    exited,
    exitCode: () => exitCode,
    stop: async () => {
      if (exitCode !== undefined) return;
      signal(child, "SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
      if (!stopped) {
        signal(child, "SIGKILL");
        await exited;
      }
    },
  };
  const deadline = Date.now() + (spec.timeoutMs ?? 90_000);
  for (;;) {
    if (exitCode !== undefined) {
      throw new ServiceError(`${spec.name} exited (code ${exitCode}) while starting`, {
        details: tail(spec.logFile),
      });
    }
    if (await spec.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      await service.stop();
      throw new ServiceError(`${spec.name} was not ready in ${seconds(spec.timeoutMs ?? 90_000)}`, {
        details: tail(spec.logFile),
      });
    }
    await sleep(250);
  }
  spec.say(`${spec.name} ready in ${seconds(Date.now() - started)} (pid ${child.pid}, log ${spec.logFile})`);
  return service;
}

/** True when GET url answers 200. */
export async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.ok;
}

function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, name);
  } catch {
    // already gone
  }
}

/** The parent's environment without the variables the services would misread as their own config. */
function inheritedEnv(): Record<string, string> {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "TZ", "NODE_OPTIONS", "APOLLO_TELEMETRY_DISABLED"];
  const env: Record<string, string> = {};
  for (const key of keep) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export type PipelineOptions = {
  rpcUrl: string;
  chainId: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  deploymentFile: string;
  /** Kafka topic prefix, consumer group and schema base of this deployment's pipeline. */
  names: PipelineNames;
  logsDir: string;
  say: Say;
};

export type PipelineNames = {
  topicPrefix: string;
  groupId: string;
  schemaBase: string;
  gatewaySchema: string;
};

/** The names the pipeline of one deployment uses, so that two deployments never share topics or schemas. */
export function pipelineNames(id: string): PipelineNames {
  return {
    topicPrefix: `carechain-load-${id}`,
    groupId: `carechain-load-${id}`,
    schemaBase: `load_${id}`,
    gatewaySchema: `load_${id}_gateway`,
  };
}

/** Ingest (chain -> Kafka) and projector (Kafka -> PostgreSQL) for the load tests' deployment. */
export async function startPipeline(options: PipelineOptions): Promise<Service[]> {
  const ingestPort = await freePort();
  const projectorPort = await freePort();
  const common = {
    KAFKA_BROKERS: options.kafkaBrokers.join(","),
    KAFKA_TOPIC_PREFIX: options.names.topicPrefix,
    LOG_LEVEL: "warn",
  };
  const started: Service[] = [];
  try {
    const [ingest, projector] = await Promise.all([
      startService({
        name: "ingest",
        entry: "indexer/src/ingest/main.ts",
        env: {
          ...common,
          RPC_URL: options.rpcUrl,
          CHAIN_ID: String(options.chainId),
          DEPLOYMENT_FILE: options.deploymentFile,
          POLL_INTERVAL_MS: "200",
          INGEST_HEALTH_PORT: String(ingestPort),
        },
        logFile: join(options.logsDir, "ingest.log"),
        ready: () => httpOk(`http://127.0.0.1:${ingestPort}/health`),
        say: options.say,
      }).then((service) => {
        started.push(service);
        return service;
      }),
      startService({
        name: "projector",
        entry: "indexer/src/projector/main.ts",
        env: {
          ...common,
          DATABASE_URL: options.databaseUrl,
          KAFKA_GROUP_ID: options.names.groupId,
          PROJECTION_SCHEMA_BASE: options.names.schemaBase,
          PROJECTOR_HEALTH_PORT: String(projectorPort),
        },
        logFile: join(options.logsDir, "projector.log"),
        ready: () => httpOk(`http://127.0.0.1:${projectorPort}/health`),
        say: options.say,
      }).then((service) => {
        started.push(service);
        return service;
      }),
    ]);
    return [ingest, projector];
  } catch (error) {
    await Promise.all(started.map((service) => service.stop()));
    throw error;
  }
}

export type Gateway = Service & { url: string; graphqlUrl: string };

/** The gateway with its three subgraphs in one process (`main.ts all`), over the pipeline's schema. */
export async function startGateway(options: {
  databaseUrl: string;
  kafkaBrokers: string[];
  chainId: number;
  names: PipelineNames;
  logsDir: string;
  jwtSecret: string;
  say: Say;
}): Promise<Gateway> {
  const [port, identity, records, vitals] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const service = await startService({
    name: "gateway",
    entry: "graphql-gateway/src/main.ts",
    args: ["all"],
    env: {
      DATABASE_URL: options.databaseUrl,
      KAFKA_BROKERS: options.kafkaBrokers.join(","),
      KAFKA_TOPIC_PREFIX: options.names.topicPrefix,
      GATEWAY_HOST: "127.0.0.1",
      GATEWAY_PORT: String(port),
      IDENTITY_PORT: String(identity),
      RECORDS_PORT: String(records),
      VITALS_PORT: String(vitals),
      JWT_SECRET: options.jwtSecret,
      JWT_TTL_SECONDS: "14400",
      CHAIN_ID: String(options.chainId),
      PROJECTION_SCHEMA: options.names.schemaBase,
      GATEWAY_SCHEMA: options.names.gatewaySchema,
      APOLLO_TELEMETRY_DISABLED: "true",
      // Its /metrics (operator port, 127.0.0.1): any free one, so that runs beside `npm start` do not clash.
      METRICS_PORT: "0",
      // k6 sends hundreds of requests a second from this one address, and signs in hundreds of viewers:
      // the rate limits stay on (their cost is measured) but far above what the scenarios send.
      RATE_LIMIT_NONCE_PER_IP: "100000/60s",
      RATE_LIMIT_VERIFY_PER_IP: "100000/60s",
      RATE_LIMIT_GRAPHQL_PER_IP: "1000000/10s",
      RATE_LIMIT_GRAPHQL_PER_ACCOUNT: "1000000/10s",
      LOG_LEVEL: "warn",
    },
    logFile: join(options.logsDir, "gateway.log"),
    ready: () => httpOk(`${url}/health`),
    say: options.say,
  });
  return { ...service, url, graphqlUrl: `${url}/graphql` };
}
