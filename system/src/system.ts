// The whole system on one machine, as `npm start` and the end-to-end test run it:
//   servers (the local stack, kept between starts, or given ones) -> contracts (deployed once per chain)
//   -> ingest + projector -> identity, records, vitals subgraphs -> gateway (each a process of its own)
//   -> demo (optional) -> projections caught up.
// Any failure on the way or an abort (Ctrl-C) stops what was started, in reverse order. A service or local
// server that crashes is started again (with backoff) while the rest keep serving; only one that crashes too
// often (RESTART_MAX_CRASHES within RESTART_WINDOW_MS) is reported as a crash, which stops everything. The
// handle's stop() does the same once running.
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { NonRetryableError } from "@carechain/common";
import { type Deployment, ensureDeployment, isDeployedOn, readDeploymentFile } from "@carechain/contracts";
import { topicNames } from "@carechain/indexer/kafka";
import {
  checkChain,
  createLogger,
  freePort,
  HOST,
  type Logger,
  type RunningStack,
  reapStaleRun,
  repoRoot,
  restartNote,
  type ServerExitedError,
  StartAbortedError,
  type SupervisedStatus,
  type SupervisionEvent,
  startStack,
  waitUntilGone,
} from "@carechain/stack";
import { blockNumber, type CatchUpState, createCatchUpProbe } from "./caught-up.ts";
import { jwtSecretFor, type ServicePorts, type SystemConfig } from "./config.ts";
import { type DemoResult, seedDemo } from "./demo/scenario.ts";
import {
  checkPortsFree,
  createSupervisor,
  type GatewayMode,
  type GatewaySettings,
  type RunningService,
  serviceStages,
} from "./services.ts";
import { type StatusSample, sampleStatus } from "./status-line.ts";

/** Servers that already run (the test run's stack); without them the local stack is started. */
export interface GivenServers {
  rpcUrl: string;
  databaseUrl: string;
  kafkaBrokers: string[];
}

export interface StartSystemOptions {
  config: SystemConfig;
  servers?: GivenServers;
  /** Where logs/ and the services' run state go (and the stack's data when it is started here). */
  dataDir?: string;
  log?: Logger;
  /** Aborting (Ctrl-C) stops whatever was started and rejects with StartAbortedError. */
  signal?: AbortSignal;
  /** Told each stage as it begins ("starting the servers", ...), for progress output. */
  onStage?: (stage: string) => void;
  /**
   * The contracts: "ensure" (default) reuses the chain's deployment or deploys one (ensureDeployment);
   * "file" runs on the deployment a file names, which must be on the chain.
   */
  deployment?: { kind: "ensure" } | { kind: "file"; file: string };
  /** "split" (default): subgraphs and gateway as four processes; "single": one process (`main.ts all`). */
  gateway?: GatewayMode;
  /** More gateway settings (the load tests' rate limits and token lifetime). */
  gatewaySettings?: GatewaySettings;
}

export interface SystemTimings {
  serversMs: number;
  deployMs: number;
  servicesMs: number;
  demoMs: number;
  catchUpMs: number;
  totalMs: number;
}

export interface RunningSystem {
  endpoints: { rpcUrl: string; chainId: number; databaseUrl: string; kafkaBrokers: string[] };
  deployment: Deployment;
  deploymentFile: string;
  /** True when this start deployed the contracts (false: the deployment was on chain already). */
  deployed: boolean;
  /** http://127.0.0.1:<GATEWAY_PORT> (POST /graphql, ws /graphql, /auth/*). */
  gatewayUrl: string;
  /** http://127.0.0.1:<WEB_PORT>: the web app. */
  webUrl: string;
  services: RunningService[];
  /** The stack when started here (undefined with given servers). */
  stack: RunningStack | undefined;
  demo: DemoResult | undefined;
  timings: SystemTimings;
  logsDir: string;
  /**
   * Listeners hear of any server or service that supervision gave up on (a RestartsExhaustedError; also
   * of earlier ones): npm start then stops everything.
   */
  onCrash(listener: (error: ServerExitedError) => void): void;
  /** Listeners hear of every crash, restart and give-up of a service or local server as it happens. */
  onRestart(listener: (event: SupervisionEvent) => void): void;
  /** Each service's and local server's state and restart count. */
  supervision(): SupervisedStatus[];
  /** Whether the projections reflect the chain head now. */
  checkCaughtUp(): Promise<CatchUpState>;
  /** Polls until the projections reflect the chain head (bounded). */
  waitForCatchUp(timeoutMs?: number): Promise<CatchUpState>;
  /** The figures of the status line. */
  sampleStatus(): Promise<StatusSample>;
  /** Stops the services (gateway first), then the servers it started. Never throws; safe to call twice. */
  stop(): Promise<void>;
}

export async function startSystem(options: StartSystemOptions): Promise<RunningSystem> {
  const { config } = options;
  const log = options.log ?? createLogger("system");
  const stage = options.onStage ?? ((text: string) => log.info(text));
  const dataDir = options.dataDir ?? config.dataDir;
  const started = Date.now();
  const timings: SystemTimings = {
    serversMs: 0,
    deployMs: 0,
    servicesMs: 0,
    demoMs: 0,
    catchUpMs: 0,
    totalMs: 0,
  };
  const signal = options.signal;
  const checkAborted = () => {
    if (signal?.aborted)
      throw new StartAbortedError("start-up was cancelled; everything started was stopped");
  };

  let stack: RunningStack | undefined;
  let supervisor: ReturnType<typeof createSupervisor> | undefined;
  let probe: ReturnType<typeof createCatchUpProbe> | undefined;
  const crashListeners = new Set<(error: ServerExitedError) => void>();
  const crashes: ServerExitedError[] = [];
  let rejectOnCrash: (error: ServerExitedError) => void = () => {};
  const crashed = new Promise<never>((_, reject) => {
    rejectOnCrash = reject;
  });
  crashed.catch(() => {}); // observed through `during`
  const reportCrash = (error: ServerExitedError) => {
    crashes.push(error);
    rejectOnCrash(error);
    for (const listener of crashListeners) listener(error);
  };
  const restartListeners = new Set<(event: SupervisionEvent) => void>();
  const reportRestart = (event: SupervisionEvent) => {
    for (const listener of restartListeners) listener(event);
  };
  // The stack logs its servers' restarts; the services' are logged here.
  const logServiceRestart = (event: SupervisionEvent) => {
    if (event.kind === "unresponsive")
      log.warn(`${event.name} (pid ${event.pid}) stopped answering /health: killing it to restart it`);
    if (event.kind === "crashed") log.warn(`${event.name} stopped unexpectedly: ${restartNote(event)}`);
    if (event.kind === "restarted")
      log.info(`${event.name} is back (pid ${event.pid}) after ${(event.downMs / 1000).toFixed(1)} s`);
    reportRestart(event);
  };
  const supervision = () => [...(stack?.supervision() ?? []), ...(supervisor?.status() ?? [])];
  /** Names of what is restarting now (the catch-up wait does not count that time against its bound). */
  const restarting = () => supervision().flatMap((s) => (s.state === "restarting" ? [s.name] : []));
  /** A step fails at once when a server or service crashed for good meanwhile. */
  const during = <T>(step: Promise<T>): Promise<T> => Promise.race([step, crashed]);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      await probe?.close();
      await supervisor?.stop();
      await stack?.stop();
    })();
    return stopping;
  };

  try {
    // Before anything starts: what a killed earlier start left behind is stopped (its pids are recorded in
    // the data folder), then the services' ports must be free (the message names the variable to set).
    const leftovers = [
      ...reapStaleRun(join(dataDir, "services")),
      ...(options.servers ? [] : reapStaleRun(dataDir)),
    ];
    if (leftovers.length > 0) {
      log.warn(`stopped processes a killed earlier start left behind (pids ${leftovers.join(", ")})`);
      await waitUntilGone(leftovers); // and with them their ports and lock files
    }
    await checkPortsFree(config.ports);
    const ports = await resolvePorts(config.ports);

    // 1. Servers.
    const t0 = Date.now();
    let servers: GivenServers & { chainId: number };
    if (options.servers) {
      const { chainId } = await checkChain(options.servers.rpcUrl);
      servers = { ...options.servers, chainId };
    } else {
      const where = relative(repoRoot, dataDir);
      stage(
        `starting the servers (anvil, PostgreSQL, Kafka; data kept in ${where.startsWith("..") ? dataDir : where})`,
      );
      stack = await startStack({
        ...config.stack,
        dataDir,
        persist: true,
        restart: config.restart,
        log,
        signal,
      });
      stack.onCrash(reportCrash);
      stack.onRestart(reportRestart);
      servers = stack.endpoints;
    }
    timings.serversMs = Date.now() - t0;
    checkAborted();

    // 2. Contracts: reused when this chain has them, deployed otherwise.
    const t1 = Date.now();
    mkdirSync(dataDir, { recursive: true });
    const given = options.deployment?.kind === "file" ? options.deployment.file : undefined;
    const { deployment, file, deployed } = await during(
      given
        ? deploymentOnChain(servers.rpcUrl, given)
        : ensureDeployment({
            rpcUrl: servers.rpcUrl,
            chainId: servers.chainId,
            dir: config.deploymentsDir,
            keptFile: join(dataDir, "deployment.json"),
            privateKey: config.deployerKey,
            stage,
          }),
    );
    timings.deployMs = Date.now() - t1;
    checkAborted();

    // 3. Services, stage by stage, each waited for on its /health.
    const t2 = Date.now();
    const stages = serviceStages({
      rpcUrl: servers.rpcUrl,
      chainId: servers.chainId,
      databaseUrl: servers.databaseUrl,
      kafkaBrokers: servers.kafkaBrokers,
      deploymentFile: file,
      names: config.names,
      ports,
      jwtSecret: jwtSecretFor(config),
      pollIntervalMs: config.pollIntervalMs,
      logLevel: config.logLevel,
      gateway: options.gateway ?? "split",
      gatewaySettings: options.gatewaySettings,
      documentsDir: join(dataDir, "documents"),
      deliveryRetrySchedule: config.deliveryRetrySchedule,
    });
    supervisor = createSupervisor({
      dataDir,
      timeoutMs: config.serviceStartTimeoutMs,
      signal,
      restart: config.restart,
    });
    supervisor.onCrash(reportCrash);
    supervisor.onRestart(logServiceRestart);
    for (const specs of stages) {
      stage(`starting ${specs.map((s) => s.name).join(", ")}`);
      await during(supervisor.startStage(specs));
      checkAborted();
    }
    timings.servicesMs = Date.now() - t2;

    // 4. Demo.
    let demo: DemoResult | undefined;
    const wantDemo = config.demo === "auto" ? servers.chainId === 31337 : config.demo;
    if (wantDemo) {
      stage("seeding the demo (skipped where it is on chain already)");
      demo = await during(
        seedDemo({
          rpcUrl: servers.rpcUrl,
          deployment,
          adminKey: config.deployerKey,
          gatewayUrl: `http://${HOST}:${ports.gateway}`,
          log: (line) => log.info(`  demo: ${line}`),
          signal,
        }),
      );
      timings.demoMs = demo.ms;
    }
    checkAborted();

    // 5. Caught up: everything on chain is readable through the gateway.
    const t4 = Date.now();
    probe = createCatchUpProbe({
      rpcUrl: servers.rpcUrl,
      ingestMetricsUrl: `http://${HOST}:${ports.ingestHealth}/metrics`,
      projectorMetricsUrl: `http://${HOST}:${ports.projectorHealth}/metrics`,
      databaseUrl: servers.databaseUrl,
      kafkaBrokers: servers.kafkaBrokers,
      topic: topicNames(config.names.topicPrefix).events,
      projectionSchemaBase: config.names.projectionSchemaBase,
    });
    stage("waiting for the projections to catch up with the chain");
    await during(probe.wait({ timeoutMs: config.catchUpTimeoutMs, signal, paused: restarting }));
    checkAborted();
    timings.catchUpMs = Date.now() - t4;
    timings.totalMs = Date.now() - started;

    const activeProbe = probe;
    return {
      endpoints: {
        rpcUrl: servers.rpcUrl,
        chainId: servers.chainId,
        databaseUrl: servers.databaseUrl,
        kafkaBrokers: servers.kafkaBrokers,
      },
      deployment,
      deploymentFile: file,
      deployed,
      gatewayUrl: `http://${HOST}:${ports.gateway}`,
      webUrl: `http://${HOST}:${ports.web}`,
      services: supervisor.running(),
      stack,
      demo,
      timings,
      logsDir: join(dataDir, "logs"),
      onCrash(listener) {
        crashListeners.add(listener);
        for (const error of crashes) listener(error);
      },
      onRestart(listener) {
        restartListeners.add(listener);
      },
      supervision,
      checkCaughtUp: () => activeProbe.check(),
      waitForCatchUp: (timeoutMs = config.catchUpTimeoutMs) =>
        activeProbe.wait({ timeoutMs, paused: restarting }),
      sampleStatus: () =>
        sampleStatus({
          ingestMetricsUrl: `http://${HOST}:${ports.ingestHealth}/metrics`,
          projectorMetricsUrl: `http://${HOST}:${ports.projectorHealth}/metrics`,
          head: () => blockNumber(servers.rpcUrl, 2_000),
          supervision,
        }),
      stop,
    };
  } catch (error) {
    await stop();
    if (signal?.aborted)
      throw new StartAbortedError("start-up was cancelled; everything started was stopped");
    throw error;
  }
}

/** A deployment given by file: used as it is, once its contracts are found on the chain. */
async function deploymentOnChain(
  rpcUrl: string,
  file: string,
): Promise<{ deployment: Deployment; file: string; deployed: false }> {
  const deployment = readDeploymentFile(file);
  if (!(await isDeployedOn(rpcUrl, deployment))) {
    throw new NonRetryableError(`the contracts of ${file} are not on the chain at ${rpcUrl}`);
  }
  return { deployment, file, deployed: false };
}

/** Port 0 means "any free port": picked here, so that every service knows every other one's. */
async function resolvePorts(ports: ServicePorts): Promise<ServicePorts> {
  const entries = await Promise.all(
    Object.entries(ports).map(async ([name, port]) => [name, port === 0 ? await freePort() : port] as const),
  );
  return Object.fromEntries(entries) as unknown as ServicePorts;
}
