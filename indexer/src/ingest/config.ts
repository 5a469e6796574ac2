import { buildEnv, type EnvValues, type LogLevel, parseConfig, portVar, sharedEnv } from "@carechain/common";
import type { Address } from "viem";
import { z } from "zod";

/** What ingest needs, parsed once by main.ts (or built directly by tests and the benchmark). */
export type IngestOptions = {
  rpcUrl: string;
  /** Read from the RPC when absent. */
  chainId?: number;
  /** Where the watched contracts come from: given directly, or a deployments file / directory. */
  contracts: { addresses: Address[]; startBlock: number } | { file: string } | { dir: string };
  kafka: { brokers: string[]; topicPrefix: string; partitions: number; clientId?: string };
  confirmations: number;
  pollIntervalMs: number;
  maxBlockRange: number;
  rpcTimeoutMs: number;
  /** Recent block hashes remembered for reorg repair. */
  reorgWindow: number;
  healthPort: number;
  /** Test only: pause inside each Kafka transaction (crash tests). */
  delayInTransactionMs?: number;
};

const int = (min: number) => z.coerce.number().int().min(min);
const { KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, LOG_LEVEL } = sharedEnv;

const baseEnv = z.object({
  RPC_URL: z.url({ message: "set RPC_URL to the node's HTTP JSON-RPC URL, e.g. http://127.0.0.1:8545" }),
  CHAIN_ID: int(1).optional(),
  KAFKA_BROKERS,
  KAFKA_TOPIC_PREFIX,
  KAFKA_EVENTS_PARTITIONS: int(1).default(3),
  CONFIRMATIONS: int(0).default(0),
  POLL_INTERVAL_MS: int(10).default(1_000),
  MAX_BLOCK_RANGE: int(1).default(2_000),
  RPC_TIMEOUT_MS: int(100).default(10_000),
  REORG_WINDOW: int(2).default(128),
  INGEST_HEALTH_PORT: portVar(9464),
  LOG_LEVEL,
  INGEST_TEST_DELAY_IN_TRANSACTION_MS: int(0).optional(),
});

// Parsed on its own (intersection) so that its rule is reported even when other variables are wrong.
const deploymentEnv = z
  .object({ DEPLOYMENT_FILE: z.string().min(1).optional(), DEPLOYMENTS_DIR: z.string().min(1).optional() })
  .refine((env) => Boolean(env.DEPLOYMENT_FILE || env.DEPLOYMENTS_DIR), {
    path: ["DEPLOYMENT_FILE"],
    message: "set DEPLOYMENT_FILE (a deployments/<chainId>.json) or DEPLOYMENTS_DIR (the deployments folder)",
  });

/** Ingest's environment: the one declaration of every variable it reads. */
export const ingestEnvSchema = z.intersection(baseEnv, deploymentEnv);

/** Ingest's environment from typed values, validated here (for whoever starts ingest: npm start, compose). */
export function ingestEnvironment(values: EnvValues<typeof ingestEnvSchema>): Record<string, string> {
  return buildEnv(ingestEnvSchema, values, "ingest");
}

/** Parses the environment (ConfigError naming each wrong variable) into ingest's options. */
export function ingestOptionsFromEnv(environment: Record<string, string | undefined>): {
  options: IngestOptions;
  logLevel: LogLevel;
} {
  const env = parseConfig(ingestEnvSchema, environment, "ingest");
  return {
    logLevel: env.LOG_LEVEL,
    options: {
      rpcUrl: env.RPC_URL,
      chainId: env.CHAIN_ID,
      contracts: env.DEPLOYMENT_FILE ? { file: env.DEPLOYMENT_FILE } : { dir: env.DEPLOYMENTS_DIR! },
      kafka: {
        brokers: env.KAFKA_BROKERS.split(","),
        topicPrefix: env.KAFKA_TOPIC_PREFIX,
        partitions: env.KAFKA_EVENTS_PARTITIONS,
      },
      confirmations: env.CONFIRMATIONS,
      pollIntervalMs: env.POLL_INTERVAL_MS,
      maxBlockRange: env.MAX_BLOCK_RANGE,
      rpcTimeoutMs: env.RPC_TIMEOUT_MS,
      reorgWindow: env.REORG_WINDOW,
      healthPort: env.INGEST_HEALTH_PORT,
      delayInTransactionMs: env.INGEST_TEST_DELAY_IN_TRANSACTION_MS,
    },
  };
}

/** Defaults for everything but the endpoints and contracts, for tests and scripts that build options. */
export function defaultIngestOptions(
  required: Pick<IngestOptions, "rpcUrl" | "contracts"> & {
    kafka: { brokers: string[]; topicPrefix: string; partitions?: number };
  },
): IngestOptions {
  return {
    confirmations: 0,
    pollIntervalMs: 250,
    maxBlockRange: 2_000,
    rpcTimeoutMs: 10_000,
    reorgWindow: 128,
    healthPort: 0,
    ...required,
    kafka: { partitions: 3, ...required.kafka },
  };
}
