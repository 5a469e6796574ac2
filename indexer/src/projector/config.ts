import { buildEnv, type EnvValues, type LogLevel, parseConfig, portVar, sharedEnv } from "@carechain/common";
import { z } from "zod";
import { defaultFinalityDepth } from "./clock.ts";
import type { ProjectorOptions } from "./service.ts";

const int = (min: number) => z.coerce.number().int().min(min);

/** The projector's environment (main.ts and rebuild.ts): the one declaration of every variable it reads. */
export const projectorEnvSchema = z.object({
  ...sharedEnv, // DATABASE_URL, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, LOG_LEVEL
  KAFKA_GROUP_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default("carechain-projector"),
  PROJECTION_SCHEMA_BASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, "expected lower-case letters, digits and underscores (at most 41)")
    .default("carechain"),
  PROJECTOR_HEALTH_PORT: portVar(9465),
  PROJECTOR_FETCH_MAX_BYTES: int(1024).default(4_194_304),
  /** Kafka group session: a restart after kill -9 waits up to this long for the dead member's partitions. */
  PROJECTOR_SESSION_TIMEOUT_MS: int(6_000).default(6_000),
  /** Unhealthy once a partition with lag has made no progress for this long. */
  PROJECTOR_STALL_AFTER_MS: int(1_000).default(30_000),
  /** Blocks on top of an alert before it is announced final (ALERT_FINAL; ALERT_RAISED says which it is). */
  FINALITY_DEPTH: int(0).default(defaultFinalityDepth),
  /** Test only: SIGKILL the process after the writes of this batch, before its COMMIT (crash tests). */
  PROJECTOR_TEST_KILL_BEFORE_COMMIT_OF_BATCH: int(1).optional(),
});

/** The projector's environment from typed values, validated here (for whoever starts it: npm start, compose). */
export function projectorEnvironment(values: EnvValues<typeof projectorEnvSchema>): Record<string, string> {
  return buildEnv(projectorEnvSchema, values, "projector");
}

export type ProjectorMainOptions = ProjectorOptions & {
  healthPort: number;
  killBeforeCommitOfBatch?: number;
};

/** Parses the environment (ConfigError naming each wrong variable) into the projector's options. */
export function projectorOptionsFromEnv(
  environment: Record<string, string | undefined>,
  service = "projector",
): { options: ProjectorMainOptions; logLevel: LogLevel } {
  const env = parseConfig(projectorEnvSchema, environment, service);
  return {
    logLevel: env.LOG_LEVEL,
    options: {
      databaseUrl: env.DATABASE_URL,
      kafkaBrokers: env.KAFKA_BROKERS.split(","),
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      groupId: env.KAFKA_GROUP_ID,
      schemaBase: env.PROJECTION_SCHEMA_BASE,
      fetchMaxBytesPerPartition: env.PROJECTOR_FETCH_MAX_BYTES,
      sessionTimeoutMs: env.PROJECTOR_SESSION_TIMEOUT_MS,
      stallAfterMs: env.PROJECTOR_STALL_AFTER_MS,
      finalityDepth: env.FINALITY_DEPTH,
      healthPort: env.PROJECTOR_HEALTH_PORT,
      killBeforeCommitOfBatch: env.PROJECTOR_TEST_KILL_BEFORE_COMMIT_OF_BATCH,
    },
  };
}
