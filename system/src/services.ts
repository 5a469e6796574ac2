// The pipeline's services as separate processes, started through their own entry points exactly as in
// production (`tsx indexer/src/ingest/main.ts`, ...) and supervised with the stack's ManagedProcess: each
// runs in its own process group (Ctrl-C reaches only `npm start`, which stops them in order) with its output
// in <dataDir>/logs/<name>.log, is ready when its /health answers 200. One that exits unasked is started
// again (stack's Supervised: backoff, same port), the others keep serving; only when it crashes too often
// is it reported, with the tail of its log. Their pids are kept in <dataDir>/services/run.json, so that a
// start after a `kill -9` of `npm start` stops what the killed one left behind.
import { appendFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { NonRetryableError } from "@carechain/common";
import { deliveryEnvironment } from "@carechain/delivery";
import { gatewayEnvironment } from "@carechain/gateway";
import { ingestEnvironment, projectorEnvironment } from "@carechain/indexer";
import {
  HOST,
  isListening,
  ManagedProcess,
  type RestartPolicy,
  reapStaleRun,
  repoRoot,
  type ServerExitedError,
  Supervised,
  type SupervisedStatus,
  type SupervisionEvent,
  writeRunState,
} from "@carechain/stack";
import { webEnvironment } from "@carechain/web/server";
import type { ServiceLogLevel, ServicePorts, SystemNames } from "./config.ts";
import { portVariables } from "./config.ts";

export type ServiceName =
  | "ingest"
  | "projector"
  | "identity"
  | "records"
  | "vitals"
  | "gateway"
  | "delivery"
  | "web";

export interface ServiceSpec {
  name: ServiceName;
  /** Entry file, relative to the repository root. */
  entry: string;
  args: string[];
  env: Record<string, string>;
  /** Base URL of its health server (`/health`, `/metrics`). */
  healthUrl: string;
  /** The variable that sets its port, for the "port taken" message. */
  portVariable: string;
  port: number;
  /** Beyond 200 from /health (the gateway also waits for its subscription feed). */
  ready?: (health: unknown) => boolean;
}

export interface RunningService {
  name: ServiceName;
  /** The current process; after a restart, the new one (the old one while restarting). */
  readonly process: ManagedProcess;
  supervised: Supervised;
  healthUrl: string;
  logFile: string;
  /** The first start's. */
  startupMs: number;
}

/** What every service needs to know about the servers, the deployment and the system's names. */
export interface ServiceInputs {
  rpcUrl: string;
  chainId: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  deploymentFile: string;
  names: SystemNames;
  ports: ServicePorts;
  jwtSecret: string;
  pollIntervalMs: number;
  logLevel: ServiceLogLevel;
  /** "split": the three subgraphs and the gateway as four processes; "single": one (`main.ts all`). */
  gateway: GatewayMode;
  /** More gateway settings (the load tests' rate limits and token lifetime). */
  gatewaySettings?: GatewaySettings;
  /**
   * The gateway's embedded document store (`<data folder>/documents`); S3_BUCKET in the environment (or
   * in gatewaySettings) switches it to an S3-compatible store instead.
   */
  documentsDir: string;
  /** The webhook retry schedule (DELIVERY_RETRY_SCHEDULE); undefined: the delivery service's default. */
  deliveryRetrySchedule?: string;
}

export type GatewayMode = "split" | "single";
export type GatewaySettings = Partial<Parameters<typeof gatewayEnvironment>[0]>;

/**
 * The services in start order, as stages: a stage starts once the previous one is healthy. Ingest,
 * projector and the subgraphs need only the servers; the gateway comes after them, so that its subscription
 * feed finds the projector's `event_feed` table, and the delivery service and the web app last: the
 * former works on the gateway's schema (webhook subscriptions) that the gateway migrates, the latter serves
 * a page that talks to the gateway. Each environment is built by the service's own
 * function, from its own schema.
 */
export function serviceStages(inputs: ServiceInputs): ServiceSpec[][] {
  const { names, ports } = inputs;
  const kafka = {
    KAFKA_BROKERS: inputs.kafkaBrokers.join(","),
    KAFKA_TOPIC_PREFIX: names.topicPrefix,
    LOG_LEVEL: inputs.logLevel,
  };
  const subgraphUrl = (port: number) => `http://${HOST}:${port}/graphql`;
  const gatewayEnv = (metrics: { METRICS_PORT: number; METRICS_HOST?: string }) =>
    gatewayEnvironment({
      LOG_LEVEL: inputs.logLevel,
      DATABASE_URL: inputs.databaseUrl,
      JWT_SECRET: inputs.jwtSecret,
      PROJECTION_SCHEMA: names.projectionSchemaBase,
      GATEWAY_SCHEMA: names.gatewaySchema,
      CHAIN_ID: inputs.chainId,
      RPC_URL: inputs.rpcUrl,
      GATEWAY_HOST: HOST,
      GATEWAY_PORT: ports.gateway,
      SUBGRAPH_HOST: HOST,
      IDENTITY_PORT: ports.identity,
      RECORDS_PORT: ports.records,
      VITALS_PORT: ports.vitals,
      IDENTITY_URL: subgraphUrl(ports.identity),
      RECORDS_URL: subgraphUrl(ports.records),
      VITALS_URL: subgraphUrl(ports.vitals),
      DOCUMENTS_DIR: inputs.documentsDir,
      // People sign in at the web app, and a wallet warns when a Sign-In with Ethereum message names
      // another site than the page asking (EIP-4361): the message names the web app's origin.
      SIWE_DOMAIN: `${HOST}:${ports.web}`,
      SIWE_URI: `http://${HOST}:${ports.web}`,
      // Every webhook receiver of a local system is on this machine (the example insurer, tests).
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
      ...inputs.gatewaySettings,
      ...metrics,
    });
  const subgraph = (name: "identity" | "records" | "vitals"): ServiceSpec => ({
    name,
    entry: "graphql-gateway/src/main.ts",
    args: [name],
    // Each process serves its metrics on an operator port of its own: any free one for the subgraphs.
    env: gatewayEnv({ METRICS_PORT: 0 }),
    healthUrl: `http://${HOST}:${ports[name]}`,
    portVariable: portVariables[name],
    port: ports[name],
  });
  const pipeline: ServiceSpec[] = [
    {
      name: "ingest",
      entry: "indexer/src/ingest/main.ts",
      args: [],
      env: ingestEnvironment({
        ...kafka,
        RPC_URL: inputs.rpcUrl,
        CHAIN_ID: inputs.chainId,
        DEPLOYMENT_FILE: inputs.deploymentFile,
        POLL_INTERVAL_MS: inputs.pollIntervalMs,
        INGEST_HEALTH_PORT: ports.ingestHealth,
      }),
      healthUrl: `http://${HOST}:${ports.ingestHealth}`,
      portVariable: portVariables.ingestHealth,
      port: ports.ingestHealth,
    },
    {
      name: "projector",
      entry: "indexer/src/projector/main.ts",
      args: [],
      env: projectorEnvironment({
        ...kafka,
        DATABASE_URL: inputs.databaseUrl,
        KAFKA_GROUP_ID: names.groupId,
        PROJECTION_SCHEMA_BASE: names.projectionSchemaBase,
        PROJECTOR_HEALTH_PORT: ports.projectorHealth,
        // anvil mines a block per transaction and cannot reorganize by itself: two blocks on top make an
        // alert final here (12 by default, for a real chain), so the demo's alerts do not wait for a dozen writes.
        FINALITY_DEPTH: 2,
      }),
      healthUrl: `http://${HOST}:${ports.projectorHealth}`,
      portVariable: portVariables.projectorHealth,
      port: ports.projectorHealth,
    },
  ];
  const single = inputs.gateway === "single";
  return [
    single ? pipeline : [...pipeline, subgraph("identity"), subgraph("records"), subgraph("vitals")],
    [
      {
        name: "gateway",
        entry: "graphql-gateway/src/main.ts",
        // "all": the subgraphs in the same process, on the same ports as split.
        args: [single ? "all" : "gateway"],
        env: gatewayEnv({ METRICS_PORT: ports.gatewayMetrics, METRICS_HOST: HOST }),
        // The operator port: /metrics and the detailed /health (the public port answers a bare ok).
        healthUrl: `http://${HOST}:${ports.gatewayMetrics}`,
        portVariable: portVariables.gateway,
        port: ports.gateway,
        // Subscriptions only deliver events read after the feed joined: wait for it.
        ready: (health) =>
          (health as { checks?: { subscriptions?: { ok?: boolean } } }).checks?.subscriptions?.ok === true,
      },
    ],
    [
      {
        name: "delivery",
        entry: "delivery/src/main.ts",
        args: [],
        env: deliveryEnvironment({
          LOG_LEVEL: inputs.logLevel,
          DATABASE_URL: inputs.databaseUrl,
          PROJECTION_SCHEMA: names.projectionSchemaBase,
          GATEWAY_SCHEMA: names.gatewaySchema,
          DELIVERY_HOST: HOST,
          DELIVERY_PORT: ports.delivery,
          // Every receiver of a local system is on this machine (the example insurer, tests).
          DELIVERY_ALLOW_PRIVATE_URLS: "true",
          ...(inputs.deliveryRetrySchedule !== undefined && {
            DELIVERY_RETRY_SCHEDULE: inputs.deliveryRetrySchedule,
          }),
        }),
        healthUrl: `http://${HOST}:${ports.delivery}`,
        portVariable: portVariables.delivery,
        port: ports.delivery,
      },
      {
        name: "web",
        entry: "web/src/server/main.ts",
        args: [],
        // The URLs as the browser (and its wallet) reach them: all on this machine.
        env: webEnvironment({
          WEB_HOST: HOST,
          WEB_PORT: ports.web,
          GATEWAY_URL: `http://${HOST}:${ports.gateway}`,
          RPC_URL: inputs.rpcUrl,
          CHAIN_ID: inputs.chainId,
          DEPLOYMENT_FILE: inputs.deploymentFile,
        }),
        healthUrl: `http://${HOST}:${ports.web}`,
        portVariable: portVariables.web,
        port: ports.web,
      },
    ],
  ];
}

/** Fails, naming the variable to set, when a port a service should listen on is taken by another program. */
export async function checkPortsFree(ports: ServicePorts): Promise<void> {
  const entries = (Object.entries(ports) as [keyof ServicePorts, number][]).filter(([, port]) => port !== 0);
  const taken = await Promise.all(entries.map(([, port]) => isListening(port, 2_000)));
  const problems = entries
    .filter((_, i) => taken[i])
    .map(
      ([name, port]) =>
        `port ${port} (${name}) is taken: stop what listens there or set ${portVariables[name]}`,
    );
  if (problems.length > 0) {
    throw new NonRetryableError("A port CareChain needs is already in use.", {
      details: problems.join("\n"),
    });
  }
}

/** tsx's ESM loader, by path: services run as `node --import <loader> <entry>` (one process each, not two). */
function tsxLoader(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("tsx/package.json")), "dist", "loader.mjs");
}

export interface ServiceSupervisor {
  /** Starts one stage's services in parallel and waits for each one's /health. */
  startStage(stage: ServiceSpec[]): Promise<RunningService[]>;
  running(): RunningService[];
  /** Each service's state and restart count. */
  status(): SupervisedStatus[];
  /** Listeners hear of every service supervision gave up on (also of earlier ones). */
  onCrash(listener: (error: ServerExitedError) => void): void;
  /** Listeners hear of every crash, restart and give-up as it happens. */
  onRestart(listener: (event: SupervisionEvent) => void): void;
  /** Stops the services in reverse start order; never throws. Safe to call twice. */
  stop(): Promise<void>;
}

export function createSupervisor(options: {
  dataDir: string;
  timeoutMs: number;
  stopTimeoutMs?: number;
  signal?: AbortSignal;
  /** How a crashed service is restarted (stack's defaultRestartPolicy for what is not set). */
  restart?: Partial<RestartPolicy>;
}): ServiceSupervisor {
  const logsDir = join(options.dataDir, "logs");
  // Their working folder: the reaper recognises a left-behind service by it (see stack's run-state.ts).
  const runDir = join(options.dataDir, "services");
  mkdirSync(runDir, { recursive: true });
  mkdirSync(logsDir, { recursive: true });
  reapStaleRun(runDir);
  const started: RunningService[] = [];
  /** Every process spawned, restarts included, for the run state (the dead ones are filtered out). */
  const spawned = new Set<ManagedProcess>();
  const crashes: ServerExitedError[] = [];
  const listeners = new Set<(error: ServerExitedError) => void>();
  const restartListeners = new Set<(event: SupervisionEvent) => void>();
  const save = () => {
    for (const child of spawned) if (!child.running) spawned.delete(child);
    writeRunState(runDir, {
      ownerPid: process.pid,
      servers: [...spawned].map((child) => ({ name: child.name, pid: child.pid })),
    });
  };
  save();
  const loader = tsxLoader();
  // Cancels first starts still retrying when the supervisor stops (or the start-up is aborted).
  const stopped = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal;

  /** One start of a service (the first or a restart): spawned, then waited for on its /health. */
  async function startProcess(
    spec: ServiceSpec,
    logFile: string,
    restart: boolean,
    register: (child: ManagedProcess) => void,
  ): Promise<ManagedProcess> {
    // Logs are kept across starts: a marker shows where this start's output begins.
    appendFileSync(
      logFile,
      `--- ${new Date().toISOString()} ${restart ? "restarted" : "started"} by npm start (pid ${process.pid}) ---\n`,
    );
    const child = await ManagedProcess.spawn({
      name: spec.name,
      command: process.execPath,
      args: ["--import", loader, join(repoRoot, spec.entry), ...spec.args],
      cwd: runDir,
      logFile,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, "tsconfig.json"), ...spec.env },
    });
    register(child);
    spawned.add(child);
    save();
    await child.waitUntil(() => isHealthy(spec), {
      what: `GET ${spec.healthUrl}/health to answer 200`,
      timeoutMs: options.timeoutMs,
      intervalMs: 250,
      // The start-up's abort (Ctrl-C) does not concern a restart: stop() cancels that.
      signal: restart ? undefined : options.signal,
    });
    return child;
  }

  async function startOne(spec: ServiceSpec): Promise<RunningService> {
    const t0 = Date.now();
    const logFile = join(logsDir, `${spec.name}.log`);
    let last: ManagedProcess | undefined;
    let starts = 0;
    // A first start whose process exits (a server it needs not quite ready) is retried like a crash; one
    // that never answers /health fails the start-up. Restarts go through the same spawn and health wait.
    const supervised = await Supervised.start(
      spec.name,
      (register) =>
        startProcess(spec, logFile, starts++ > 0, (child) => {
          last = child;
          register(child);
        }),
      {
        policy: options.restart,
        retryFirstStart: true,
        signal,
        stopTimeoutMs: options.stopTimeoutMs ?? 15_000,
        // Any answer on /health (a 503 included: a dependency down is not cured by a restart) is alive;
        // none for `failures` probes in a row is a hung process (SIGSTOP, a deadlock): killed, restarted.
        liveness: {
          probe: () =>
            fetch(`${spec.healthUrl}/health`, { signal: AbortSignal.timeout(3_000) }).then(
              async (response) => {
                await response.body?.cancel();
                return true;
              },
            ),
          intervalMs: 5_000,
          timeoutMs: 3_000,
          failures: 3,
        },
        onEvent: (event) => {
          if (event.kind === "restarted") save();
          for (const listener of restartListeners) listener(event);
        },
      },
    ).catch((error: unknown) => {
      save();
      throw error;
    });
    const service: RunningService = {
      name: spec.name,
      get process() {
        return supervised.process ?? last!;
      },
      supervised,
      healthUrl: spec.healthUrl,
      logFile,
      startupMs: Date.now() - t0,
    };
    started.push(service);
    supervised.onCrash((error) => {
      crashes.push(error);
      for (const listener of listeners) listener(error);
    });
    return service;
  }

  let stopping: Promise<void> | undefined;
  return {
    async startStage(stage) {
      const results = await Promise.allSettled(stage.map(startOne));
      const failed = results.find((r) => r.status === "rejected");
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return results.map((r) => (r as PromiseFulfilledResult<RunningService>).value);
    },
    running: () => [...started],
    status: () => started.map((service) => service.supervised.status()),
    onCrash(listener) {
      listeners.add(listener);
      for (const error of crashes) listener(error);
    },
    onRestart(listener) {
      restartListeners.add(listener);
    },
    stop() {
      stopping ??= (async () => {
        stopped.abort();
        // Reverse order of the data flow: delivery and web, the gateway, the subgraphs, the projector, ingest.
        const stages = new Map<number, RunningService[]>();
        for (const service of [...started].reverse()) {
          const stage = stageOf(service.name);
          stages.set(stage, [...(stages.get(stage) ?? []), service]);
        }
        for (const stage of [...stages.keys()].sort((a, b) => b - a)) {
          await Promise.allSettled(
            stages.get(stage)!.map((service) => service.supervised.stop(options.stopTimeoutMs ?? 15_000)),
          );
        }
        // A service whose first start failed is not in `started`: what it spawned was stopped with it.
        await Promise.allSettled([...spawned].map((child) => child.stop(options.stopTimeoutMs ?? 15_000)));
        save();
      })();
      return stopping;
    },
  };
}

function stageOf(name: ServiceName): number {
  return { ingest: 0, projector: 1, identity: 2, records: 2, vitals: 2, gateway: 3, delivery: 4, web: 4 }[
    name
  ];
}

async function isHealthy(spec: ServiceSpec): Promise<boolean> {
  const response = await fetch(`${spec.healthUrl}/health`, { signal: AbortSignal.timeout(2_000) });
  if (response.status !== 200) return false;
  return spec.ready ? spec.ready(await response.json()) : true;
}
