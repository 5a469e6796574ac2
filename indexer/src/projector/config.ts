import type { LogLevel } from "@carechain/common";
import { z } from "zod";
import type { ProjectorOptions } from "./service.ts";

const int = (min: number) => z.coerce.number().int().min(min);

/** The projector's environment, parsed once by main.ts / rebuild.ts with common's parseConfig. */
export const projectorEnvSchema = z.object({
  DATABASE_URL: z
    .string({ message: "set DATABASE_URL to postgres://user:password@host:port/database" })
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL"),
  KAFKA_BROKERS: z
    .string({ message: "set KAFKA_BROKERS to host:port[,host:port...]" })
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, "expected host:port[,host:port...]"),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default("carechain"),
  KAFKA_GROUP_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default("carechain-projector"),
  PROJECTION_SCHEMA_BASE: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,40}$/, "expected lower-case letters, digits and underscores (at most 41)")
    .default("carechain"),
  PROJECTOR_HEALTH_PORT: int(0).default(9465),
  PROJECTOR_FETCH_MAX_BYTES: int(1024).default(4_194_304),
  /** Kafka group session: a restart after kill -9 waits up to this long for the dead member's partitions. */
  PROJECTOR_SESSION_TIMEOUT_MS: int(6_000).default(6_000),
  /** Unhealthy once a partition with lag has made no progress for this long. */
  PROJECTOR_STALL_AFTER_MS: int(1_000).default(30_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Test only: SIGKILL the process after the writes of this batch, before its COMMIT (crash tests). */
  PROJECTOR_TEST_KILL_BEFORE_COMMIT_OF_BATCH: int(1).optional(),
});

export type ProjectorEnv = z.output<typeof projectorEnvSchema>;

export type ProjectorMainOptions = ProjectorOptions & {
  healthPort: number;
  killBeforeCommitOfBatch?: number;
};

export function projectorOptionsFromEnv(env: ProjectorEnv): {
  options: ProjectorMainOptions;
  logLevel: LogLevel;
} {
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
      healthPort: env.PROJECTOR_HEALTH_PORT,
      killBeforeCommitOfBatch: env.PROJECTOR_TEST_KILL_BEFORE_COMMIT_OF_BATCH,
    },
  };
}
