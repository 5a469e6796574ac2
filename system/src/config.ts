// The configuration of `npm start`, parsed once at the entry point from the environment and the command
// line (zod, through common's parseConfig); everything below takes the resulting object. Every setting has
// a default that works on a developer machine; pointing the system at real infrastructure is the same
// command with RPC_URL / DATABASE_URL / KAFKA_BROKERS (and the names below) set.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { ConfigError, parseConfig } from "@carechain/common";
import { defaultDeploymentsDir } from "@carechain/contracts";
import {
  anvilAccounts,
  type RestartPolicy,
  repoRoot,
  type StackConfig,
  parseConfig as stackConfig,
} from "@carechain/stack";
import type { Hex } from "viem";
import { z } from "zod";

export type ServiceLogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Ports of the service processes (0: a free one is picked). */
export interface ServicePorts {
  gateway: number;
  identity: number;
  records: number;
  vitals: number;
  ingestHealth: number;
  projectorHealth: number;
  /** The gateway's operator server (/metrics, detailed /health), on 127.0.0.1. */
  gatewayMetrics: number;
  /** The webhook delivery service's /health and /metrics. */
  delivery: number;
  /** The web app (web/: the built page, its /config.json, /health). */
  web: number;
}

/** Names that isolate one system from another on shared servers (topics, schemas, consumer group). */
export interface SystemNames {
  /** Kafka topics `<prefix>.events.v1`, ... */
  topicPrefix: string;
  /** The projector's consumer group (per generation: `<groupId>.p<N>`). */
  groupId: string;
  /** Projection schemas: `<base>` (the views the gateway reads), `<base>_meta`, `<base>_p<N>`. */
  projectionSchemaBase: string;
  /** The gateway's own schema (sign-in nonces, audit log). */
  gatewaySchema: string;
}

export interface SystemConfig {
  /** The local servers (or the ones given by RPC_URL, DATABASE_URL, KAFKA_BROKERS). */
  stack: StackConfig;
  /** `<cache>/system`: the generated JWT secret, system.json while running, and `data/`. */
  stateDir: string;
  /** `<cache>/system/data`: the servers' kept data, logs/, the services' run state. */
  dataDir: string;
  /** Wipe the kept data first (`--reset`, CARECHAIN_RESET=1). */
  reset: boolean;
  /** Seed the demo: "auto" seeds it on an anvil chain (31337), where its well-known keys are funded. */
  demo: boolean | "auto";
  names: SystemNames;
  ports: ServicePorts;
  /** Key of the contracts' deployer (IdentityRegistry admin, the demo's admin). */
  deployerKey: Hex;
  /** Where deployments/<chainId>.json is read and written. */
  deploymentsDir: string;
  /** HS256 secret of sign-in tokens; undefined: generated once and kept in `<stateDir>/jwt-secret`. */
  jwtSecret: string | undefined;
  /** Ingest's polling interval (ms). */
  pollIntervalMs: number;
  logLevel: ServiceLogLevel;
  /** How long each service may take to answer /health. */
  serviceStartTimeoutMs: number;
  /** How long the projections may take to catch up with the chain before "ready". */
  catchUpTimeoutMs: number;
  /** How a crashed service or local server is restarted, and when supervision gives up (stops everything). */
  restart: RestartPolicy;
  /** The delivery service's waits between webhook attempts (its DELIVERY_RETRY_SCHEDULE); unset: its default. */
  deliveryRetrySchedule: string | undefined;
}

const unsetIfEmpty = (value: unknown) => (value === "" ? undefined : value);
const port = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65_535).default(fallback));
const flag = z.preprocess(
  unsetIfEmpty,
  z
    .enum(["1", "0", "true", "false", "yes", "no"], { message: "expected 1 or 0" })
    .optional()
    .transform((value) => value === "1" || value === "true" || value === "yes"),
);
const name = (fallback: string) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^[a-zA-Z0-9._-]+$/, "letters, digits, '.', '_' and '-' only")
      .default(fallback),
  );
const schema = (fallback: string, max: number) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(
        new RegExp(`^[a-z_][a-z0-9_]{0,${max - 1}}$`),
        `lower-case letters, digits, '_' (at most ${max})`,
      )
      .default(fallback),
  );
const millis = (fallback: number) =>
  z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1_000, "at least 1000 (ms)").default(fallback));

const envSchema = z.object({
  CARECHAIN_RESET: flag,
  CARECHAIN_DEMO: z.preprocess(
    unsetIfEmpty,
    z.enum(["auto", "1", "0"], { message: "auto, 1 or 0" }).default("auto"),
  ),
  GATEWAY_PORT: port(4000),
  IDENTITY_PORT: port(4001),
  RECORDS_PORT: port(4002),
  VITALS_PORT: port(4003),
  INGEST_HEALTH_PORT: port(9464),
  PROJECTOR_HEALTH_PORT: port(9465),
  GATEWAY_METRICS_PORT: port(9466),
  DELIVERY_PORT: port(9467),
  WEB_PORT: port(3000),
  KAFKA_TOPIC_PREFIX: name("carechain"),
  KAFKA_GROUP_ID: name("carechain-projector"),
  PROJECTION_SCHEMA_BASE: schema("carechain", 41),
  GATEWAY_SCHEMA: schema("gateway", 63),
  JWT_SECRET: z.preprocess(
    unsetIfEmpty,
    z.string().min(32, "at least 32 characters; generate one with `openssl rand -hex 32`").optional(),
  ),
  DEPLOYER_PRIVATE_KEY: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte hex private key")
      .default(anvilAccounts[0]!.privateKey),
  ),
  DEPLOYMENTS_DIR: z.preprocess(unsetIfEmpty, z.string().optional()),
  POLL_INTERVAL_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(10).default(500)),
  LOG_LEVEL: z.preprocess(
    unsetIfEmpty,
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  ),
  SERVICE_START_TIMEOUT_MS: millis(120_000),
  CATCH_UP_TIMEOUT_MS: millis(300_000),
  // Supervision: restart after 0.5 s, doubling to 30 s (back to 0.5 s after a minute up); give up (and stop
  // everything) at the 5th crash within 2 minutes. RESTART_MAX_CRASHES=1: stop everything at the first.
  RESTART_DELAY_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(10).default(500)),
  RESTART_MAX_DELAY_MS: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(10).default(30_000)),
  RESTART_RESET_AFTER_MS: millis(60_000),
  RESTART_MAX_CRASHES: z.preprocess(unsetIfEmpty, z.coerce.number().int().min(1).default(5)),
  RESTART_WINDOW_MS: millis(120_000),
  // Checked by the delivery service's own schema when its environment is built (services.ts).
  DELIVERY_RETRY_SCHEDULE: z.preprocess(unsetIfEmpty, z.string().optional()),
});

export const USAGE = `usage: npm start [-- --reset] [-- --no-demo]
  --reset     wipe the kept data (chain, database, Kafka) and start from nothing (or CARECHAIN_RESET=1)
  --no-demo   do not seed the demo accounts and data (or CARECHAIN_DEMO=0)
Settings come from the environment: see system/README.md.`;

/** Parses the environment and the command line (`npm start -- --reset`); a ConfigError names what to fix. */
export function loadSystemConfig(env: Record<string, string | undefined>, argv: string[] = []): SystemConfig {
  const unknown = argv.filter((arg) => !["--reset", "--no-demo", "--demo"].includes(arg));
  if (unknown.length > 0) throw new ConfigError(`Unknown argument ${unknown.join(" ")}.`, { details: USAGE });
  const stack = stackConfig(env);
  const e = parseConfig(envSchema, env, "npm start");
  const stateDir = join(stack.cacheDir, "system");
  const demoArg = argv.includes("--no-demo") ? false : argv.includes("--demo") ? true : undefined;
  const deploymentsDir = e.DEPLOYMENTS_DIR
    ? isAbsolute(e.DEPLOYMENTS_DIR)
      ? e.DEPLOYMENTS_DIR
      : resolve(repoRoot, e.DEPLOYMENTS_DIR)
    : defaultDeploymentsDir;
  return {
    stack,
    stateDir,
    dataDir: join(stateDir, "data"),
    reset: argv.includes("--reset") || e.CARECHAIN_RESET,
    demo: demoArg ?? (e.CARECHAIN_DEMO === "auto" ? "auto" : e.CARECHAIN_DEMO === "1"),
    names: {
      topicPrefix: e.KAFKA_TOPIC_PREFIX,
      groupId: e.KAFKA_GROUP_ID,
      projectionSchemaBase: e.PROJECTION_SCHEMA_BASE,
      gatewaySchema: e.GATEWAY_SCHEMA,
    },
    ports: {
      gateway: e.GATEWAY_PORT,
      identity: e.IDENTITY_PORT,
      records: e.RECORDS_PORT,
      vitals: e.VITALS_PORT,
      ingestHealth: e.INGEST_HEALTH_PORT,
      projectorHealth: e.PROJECTOR_HEALTH_PORT,
      gatewayMetrics: e.GATEWAY_METRICS_PORT,
      delivery: e.DELIVERY_PORT,
      web: e.WEB_PORT,
    },
    deployerKey: e.DEPLOYER_PRIVATE_KEY as Hex,
    deploymentsDir,
    jwtSecret: e.JWT_SECRET,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    serviceStartTimeoutMs: e.SERVICE_START_TIMEOUT_MS,
    catchUpTimeoutMs: e.CATCH_UP_TIMEOUT_MS,
    restart: {
      initialDelayMs: e.RESTART_DELAY_MS,
      maxDelayMs: Math.max(e.RESTART_MAX_DELAY_MS, e.RESTART_DELAY_MS),
      resetAfterMs: e.RESTART_RESET_AFTER_MS,
      maxCrashes: e.RESTART_MAX_CRASHES,
      windowMs: e.RESTART_WINDOW_MS,
    },
    deliveryRetrySchedule: e.DELIVERY_RETRY_SCHEDULE,
  };
}

/** The environment variable that sets each service port, for messages ("set GATEWAY_PORT"). */
export const portVariables: Record<keyof ServicePorts, string> = {
  gateway: "GATEWAY_PORT",
  identity: "IDENTITY_PORT",
  records: "RECORDS_PORT",
  vitals: "VITALS_PORT",
  ingestHealth: "INGEST_HEALTH_PORT",
  projectorHealth: "PROJECTOR_HEALTH_PORT",
  gatewayMetrics: "GATEWAY_METRICS_PORT",
  delivery: "DELIVERY_PORT",
  web: "WEB_PORT",
};

/**
 * The local system's sign-in secret: JWT_SECRET when set, else one generated on the first start and kept
 * (mode 600) in `<stateDir>/jwt-secret`, so that tokens survive a restart. Never printed.
 */
export function jwtSecretFor(config: Pick<SystemConfig, "jwtSecret" | "stateDir">): string {
  if (config.jwtSecret) return config.jwtSecret;
  const file = join(config.stateDir, "jwt-secret");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (kept.length >= 32) return kept;
  }
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return secret;
}
