// Starts the three servers in parallel (or checks the ones given by URL), returns their endpoints, and
// watches them: a server that dies while the stack runs is reported, with its log tail, at once; with
// `restart` (persistent stacks) it is first started again on the same port and data, with backoff, and
// reported only when supervision gives up on it.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkChain, startAnvil } from "./anvil.ts";
import type { StackConfig } from "./config.ts";
import { watchCrashes } from "./crash-watch.ts";
import { ConfigError, type ServerExitedError, StartAbortedError } from "./errors.ts";
import { checkKafka, startKafka } from "./kafka.ts";
import { createLogger, type Logger } from "./logger.ts";
import { checkPostgres, redact, startPostgres } from "./postgres.ts";
import {
  isAlive,
  type ManagedProcess,
  type RestartPolicy,
  type StartProcess,
  Supervised,
  type SupervisedStatus,
  type SupervisionEvent,
} from "./processes.ts";
import { readRunState, reapStaleRun, waitUntilGone, writeRunState } from "./run-state.ts";

/** Where the running stack's servers listen; what tests and other processes need to reach them. */
export interface StackEndpoints {
  rpcUrl: string;
  chainId: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  /** This run's folder: logs/<server>.log and the servers' data. */
  dataDir: string;
}

export type ServerName = "anvil" | "postgres" | "kafka";

export interface ServerInfo {
  name: ServerName;
  /** Where it listens (a given DATABASE_URL without its password). */
  address: string;
  /** Undefined for a server given by URL (RPC_URL, DATABASE_URL, KAFKA_BROKERS) rather than started. */
  pid: number | undefined;
  logFile: string | undefined;
  startupMs: number;
  /** Extra facts worth printing ("chain 31337", "Kafka 4.1.1, jars fetched"). */
  note: string;
}

export interface StackOptions extends StackConfig {
  /** This run's folder; created if missing. Use a fresh one per run (unless `persist`). */
  dataDir: string;
  /**
   * Keep the servers' data in `dataDir` from one start to the next instead of starting from nothing:
   * anvil loads and dumps its chain (`--state`, dumped every `stateIntervalSeconds` and on exit),
   * PostgreSQL keeps its cluster (no initdb when one exists), Kafka its formatted storage (same cluster
   * id, topics and offsets). The servers take their previous ports again when those are free.
   */
  persist?: boolean;
  /** With `persist`: how often anvil dumps its chain while running (default 5 s). */
  stateIntervalSeconds?: number;
  log?: Logger;
  /** Aborting stops whatever was already started and rejects with StartAbortedError. */
  signal?: AbortSignal;
  /** How long each server gets for a graceful stop before SIGKILL. */
  stopTimeoutMs?: number;
  /**
   * With `persist`: start a server that exits unasked again, on the same port and data (anvil from its
   * state file), with backoff; `crashed` then means that supervision gave up on it.
   */
  restart?: Partial<RestartPolicy>;
}

export interface RunningStack {
  endpoints: StackEndpoints;
  servers: ServerInfo[];
  startupMs: number;
  /**
   * Resolves (never rejects) with the first server that exits without being asked to (with `restart`:
   * the first one supervision gave up on, a RestartsExhaustedError).
   */
  crashed: Promise<ServerExitedError>;
  onCrash(listener: (error: ServerExitedError) => void): void;
  /** With `restart`: each server's state and restart count (empty without). */
  supervision(): SupervisedStatus[];
  /** With `restart`: every crash, restart and give-up as it happens. */
  onRestart(listener: (event: SupervisionEvent) => void): void;
  /** Stops every process the stack started, even if one of them fails to stop. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const log = options.log ?? createLogger();
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const persist = options.persist === true;
  if (options.restart && !persist) {
    // A restarted server must find its data again: anvil's chain lives only in a persistent stack's state file.
    throw new ConfigError("startStack: restart needs persist (a restarted server must find its data again)");
  }
  if (persist) {
    // A kept folder is used by one stack at a time; servers a killed owner left behind are stopped first.
    const owner = readRunState(options.dataDir)?.ownerPid;
    if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
      throw new ConfigError(
        `${options.dataDir} is in use by another stack (pid ${owner}): stop that one first`,
      );
    }
    const reaped = reapStaleRun(options.dataDir);
    if (reaped.length > 0) {
      log.warn(`stopped servers a previous run left behind (pids ${reaped.join(", ")})`);
      await waitUntilGone(reaped);
    }
  } else if (existsSync(options.dataDir) && readdirSync(options.dataDir).length > 0) {
    // Every run starts from nothing (anvil's chain always does), so old data must not leak in.
    throw new ConfigError(`${options.dataDir} is not empty: startStack needs a new folder for every run`);
  }
  const previousPorts = persist ? readPorts(options.dataDir) : {};
  const logsDir = join(options.dataDir, "logs");
  mkdirSync(logsDir, { recursive: true });
  const logFile = (name: string) => join(logsDir, `${name}.log`);

  // Every process spawned for this stack, tools included, so that any failure can stop them all.
  const children: ManagedProcess[] = [];
  const saveRunState = () =>
    writeRunState(options.dataDir, {
      ownerPid: process.pid,
      servers: children.filter((c) => c.running).map((c) => ({ name: c.name, pid: c.pid })),
    });
  const supervised: Supervised[] = [];
  const stopAll = async () => {
    // Pending restarts first, so that nothing starts again while the rest stops.
    await Promise.allSettled(supervised.map((server) => server.stop(stopTimeoutMs)));
    await Promise.allSettled(children.map((child) => child.stop(stopTimeoutMs)));
    saveRunState();
  };
  const register = (child: ManagedProcess) => {
    children.push(child);
    saveRunState();
    if (options.signal?.aborted) void child.stop(0);
  };
  saveRunState();
  const onAbort = () => void stopAll();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  const common = { timeoutMs: options.startTimeoutMs, signal: options.signal, register };
  const started = Date.now();
  const timed = async <T>(task: () => Promise<T>) => {
    const t0 = Date.now();
    const value = await task();
    return { value, ms: Date.now() - t0 };
  };

  const anvil = timed(async () => {
    if (options.rpcUrl) {
      const { chainId } = await checkChain(options.rpcUrl);
      return { rpcUrl: options.rpcUrl, chainId, server: undefined };
    }
    return startAnvil({
      ...common,
      port: options.ports.anvil,
      preferredPort: previousPorts.anvil,
      dataDir: options.dataDir,
      logFile: logFile("anvil"),
      stateFile: persist ? join(options.dataDir, "anvil", "state.json") : undefined,
      stateIntervalSeconds: options.stateIntervalSeconds,
    });
  });
  const postgres = timed(async () => {
    if (options.databaseUrl) {
      await checkPostgres(options.databaseUrl);
      return { databaseUrl: options.databaseUrl, server: undefined };
    }
    return startPostgres({
      ...common,
      port: options.ports.postgres,
      preferredPort: previousPorts.postgres,
      persist,
      dataDir: options.dataDir,
      logFile: logFile("postgres"),
    });
  });
  const kafka = timed(async () => {
    if (options.kafkaBrokers) {
      await checkKafka(options.kafkaBrokers);
      return { brokers: options.kafkaBrokers, server: undefined, note: "given by KAFKA_BROKERS" };
    }
    const started = await startKafka({
      ...common,
      log,
      port: options.ports.kafka,
      preferredPorts: { broker: previousPorts.kafka, controller: previousPorts.kafkaController },
      persist,
      cacheDir: options.cacheDir,
      dataDir: options.dataDir,
      logFile: logFile("kafka"),
      mavenLogFile: logFile("maven"),
    });
    const note = `Kafka ${started.version}${started.fetched ? ", jars fetched from Maven Central" : ""}`;
    return { ...started, note };
  });

  const results = await Promise.allSettled([anvil, postgres, kafka]);
  options.signal?.removeEventListener("abort", onAbort);
  const failures = results.flatMap((result) =>
    result.status === "rejected" ? [result.reason as unknown] : [],
  );
  if (failures.length > 0 || options.signal?.aborted) {
    await stopAll();
    if (options.signal?.aborted)
      throw new StartAbortedError("stack start-up was cancelled; every server was stopped");
    for (const extra of failures.slice(1)) log.warn(`also failed: ${String(extra)}`);
    throw failures[0];
  }
  const [a, p, k] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<typeof anvil>,
    Awaited<typeof postgres>,
    Awaited<typeof kafka>,
  ];
  const startupMs = Date.now() - started;
  if (persist) {
    writePorts(options.dataDir, {
      anvil: "port" in a.value ? a.value.port : previousPorts.anvil,
      postgres: "port" in p.value ? p.value.port : previousPorts.postgres,
      kafka: "port" in k.value ? k.value.port : previousPorts.kafka,
      kafkaController: "controllerPort" in k.value ? k.value.controllerPort : previousPorts.kafkaController,
    });
  }

  const endpoints: StackEndpoints = {
    rpcUrl: a.value.rpcUrl,
    chainId: a.value.chainId,
    databaseUrl: p.value.databaseUrl,
    kafkaBrokers: k.value.brokers,
    dataDir: options.dataDir,
  };
  const info = (
    name: ServerName,
    server: ManagedProcess | undefined,
    address: string,
    ms: number,
    note: string,
  ) => ({
    name,
    address,
    pid: server?.pid,
    logFile: server?.logFile,
    startupMs: ms,
    note: server ? note : `${note}${note ? "; " : ""}not started here (given by URL)`,
  });
  const servers: ServerInfo[] = [
    info("anvil", a.value.server, endpoints.rpcUrl, a.ms, `chain ${endpoints.chainId}`),
    // Our own server's password is the well-known local one; a given DATABASE_URL's is not printed.
    info(
      "postgres",
      p.value.server,
      p.value.server ? endpoints.databaseUrl : redact(endpoints.databaseUrl),
      p.ms,
      p.value.server ? "PostgreSQL 17" : "",
    ),
    info("kafka", k.value.server, endpoints.kafkaBrokers.join(","), k.ms, k.value.note),
  ];

  // Watch the long-running servers (one-off tools such as initdb are expected to exit).
  const running = [a.value.server, p.value.server, k.value.server].filter((server) => server !== undefined);
  const restartListeners = new Set<(event: SupervisionEvent) => void>();
  if (options.restart) {
    // A restart registers like the first start (run state for the reaper); the dead one's entry goes.
    const pruneAndRegister = (child: ManagedProcess) => {
      for (let i = children.length - 1; i >= 0; i--) if (!children[i]!.running) children.splice(i, 1);
      register(child);
    };
    const restartCommon = (own: (child: ManagedProcess) => void) => ({
      timeoutMs: options.startTimeoutMs,
      register: (child: ManagedProcess) => {
        own(child);
        pruneAndRegister(child);
      },
    });
    const again: Record<ServerName, StartProcess> = {
      anvil: async (own) =>
        (
          await startAnvil({
            ...restartCommon(own),
            port: "port" in a.value ? a.value.port : undefined,
            dataDir: options.dataDir,
            logFile: logFile("anvil"),
            stateFile: join(options.dataDir, "anvil", "state.json"),
            stateIntervalSeconds: options.stateIntervalSeconds,
          })
        ).server,
      postgres: async (own) =>
        (
          await startPostgres({
            ...restartCommon(own),
            port: "port" in p.value ? p.value.port : undefined,
            persist: true,
            dataDir: options.dataDir,
            logFile: logFile("postgres"),
          })
        ).server,
      kafka: async (own) =>
        (
          await startKafka({
            ...restartCommon(own),
            log,
            port: "port" in k.value ? k.value.port : undefined,
            preferredPorts: { controller: "controllerPort" in k.value ? k.value.controllerPort : undefined },
            persist: true,
            cacheDir: options.cacheDir,
            dataDir: options.dataDir,
            logFile: logFile("kafka"),
            mavenLogFile: logFile("maven"),
          })
        ).server,
    };
    for (const server of running) {
      const name = server.name as ServerName;
      supervised.push(
        Supervised.adopt(server, again[name], {
          policy: options.restart,
          stopTimeoutMs,
          onEvent: (event) => {
            if (event.kind === "crashed") log.warn(`${name} stopped unexpectedly: ${restartNote(event)}`);
            if (event.kind === "restarted") {
              const info = servers.find((s) => s.name === name);
              if (info) info.pid = event.pid;
              log.info(`${name} is back (pid ${event.pid}) after ${(event.downMs / 1000).toFixed(1)} s`);
            }
            for (const listener of restartListeners) listener(event);
          },
        }),
      );
    }
  }
  const { crashed, onCrash } = watchCrashes(options.restart ? supervised : running);

  let stopping: Promise<void> | undefined;
  return {
    endpoints,
    servers,
    startupMs,
    crashed,
    onCrash,
    supervision: () => supervised.map((server) => server.status()),
    onRestart: (listener) => void restartListeners.add(listener),
    stop: () => {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** The ports a persistent stack's servers listened on, kept in `<dataDir>/ports.json` for the next start. */
interface KeptPorts {
  anvil?: number;
  postgres?: number;
  kafka?: number;
  kafkaController?: number;
}

function readPorts(dataDir: string): KeptPorts {
  try {
    return JSON.parse(readFileSync(join(dataDir, "ports.json"), "utf8")) as KeptPorts;
  } catch {
    return {};
  }
}

function writePorts(dataDir: string, ports: KeptPorts): void {
  writeFileSync(join(dataDir, "ports.json"), `${JSON.stringify(ports, null, 2)}\n`);
}

/** "restarting in 2.0 s (attempt 2)", for logs. */
export function restartNote(event: Extract<SupervisionEvent, { kind: "crashed" }>): string {
  const first = event.error.message.split("\n")[0];
  return `${first}; restarting in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt})`;
}
