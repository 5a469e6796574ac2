// The stack's configuration, parsed and checked once at the entry point (CLI, vitest global setup) from
// the environment; everything below takes the resulting options object and never reads process.env.
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ConfigError } from "./errors.ts";

/** The repository root, found from this file so that the cwd does not matter. */
export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));

export interface StackConfig {
  /** The git-ignored cache: Kafka's jars, and each run's data folder. */
  cacheDir: string;
  /** Use this chain instead of starting anvil. */
  rpcUrl: string | undefined;
  /** Use this PostgreSQL server instead of starting one. */
  databaseUrl: string | undefined;
  /** Use this Kafka cluster instead of starting a broker. */
  kafkaBrokers: string[] | undefined;
  /** Fixed ports for the servers we start; a free port is chosen when not set. */
  ports: { anvil: number | undefined; postgres: number | undefined; kafka: number | undefined };
  /** How long each server may take to become healthy (not counting the one-off Maven fetch). */
  startTimeoutMs: number;
}

const unsetIfEmpty = (value: unknown) => (value === "" ? undefined : value);

const optionalUrl = (protocols: string[], example: string) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
        message: `must be a URL like ${example}`,
      })
      .optional(),
  );

const optionalPort = z.preprocess(
  unsetIfEmpty,
  z.coerce
    .number({ message: "must be a port number" })
    .int({ message: "must be a whole number" })
    .min(1, { message: "must be between 1 and 65535" })
    .max(65535, { message: "must be between 1 and 65535" })
    .optional(),
);

const brokerList = z.preprocess(
  unsetIfEmpty,
  z
    .string()
    .transform((value) =>
      value
        .split(",")
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .refine((brokers) => brokers.length > 0 && brokers.every((broker) => /^[^\s:/]+:\d{1,5}$/.test(broker)), {
      message: "must be a comma-separated list of host:port, like 127.0.0.1:9092",
    })
    .optional(),
);

const envSchema = z.object({
  RPC_URL: optionalUrl(["http:", "https:"], "http://127.0.0.1:8545"),
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"], "postgres://user:password@127.0.0.1:5432/db"),
  KAFKA_BROKERS: brokerList,
  CARECHAIN_CACHE_DIR: z.preprocess(unsetIfEmpty, z.string().optional()),
  ANVIL_PORT: optionalPort,
  POSTGRES_PORT: optionalPort,
  KAFKA_PORT: optionalPort,
  STACK_START_TIMEOUT_MS: z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ message: "must be a number of milliseconds" })
      .int()
      .min(1_000, { message: "must be at least 1000 (ms)" })
      .default(120_000),
  ),
});

/** Parses the environment; a ConfigError lists every variable that is wrong and what it should be. */
export function parseConfig(env: Record<string, string | undefined>): StackConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`invalid stack configuration in the environment:\n${problems.join("\n")}`);
  }
  const e = parsed.data;
  const clashes = [
    ["RPC_URL", e.RPC_URL, "ANVIL_PORT", e.ANVIL_PORT],
    ["DATABASE_URL", e.DATABASE_URL, "POSTGRES_PORT", e.POSTGRES_PORT],
    ["KAFKA_BROKERS", e.KAFKA_BROKERS, "KAFKA_PORT", e.KAFKA_PORT],
  ].filter(([, external, , port]) => external !== undefined && port !== undefined);
  if (clashes.length > 0) {
    const problems = clashes.map(
      ([external, , port]) => `  set ${external} (use that server) or ${port} (start one there), not both`,
    );
    throw new ConfigError(`invalid stack configuration in the environment:\n${problems.join("\n")}`);
  }
  const cacheDir = e.CARECHAIN_CACHE_DIR ?? join(repoRoot, ".cache");
  return {
    cacheDir: isAbsolute(cacheDir) ? cacheDir : resolve(repoRoot, cacheDir),
    rpcUrl: e.RPC_URL,
    databaseUrl: e.DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS,
    ports: { anvil: e.ANVIL_PORT, postgres: e.POSTGRES_PORT, kafka: e.KAFKA_PORT },
    startTimeoutMs: e.STACK_START_TIMEOUT_MS,
  };
}

/** Where `stack up` keeps its state; the vitest global setup uses fresh folders beside it. */
export function stackStateDir(cacheDir: string): string {
  return join(cacheDir, "stack");
}
