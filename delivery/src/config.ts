import { buildEnv, type EnvValues, type LogLevel, parseConfig, portVar, sharedEnv } from "@carechain/common";
import { gatewayEnvSchema } from "@carechain/gateway";
import { z } from "zod";

/**
 * Sends in flight by default. A claim takes due deliveries for the free senders in one statement whose cost
 * grows with the outbox, not with the claim, so many senders mean few, large claims: at 16 the claims were
 * the bottleneck (about 30 rows per 40 ms statement) long before the receivers or the CPU.
 */
export const DEFAULT_SENDERS = 256;

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/**
 * The default retry schedule: the wait after each failed attempt (10 waits, 11 attempts), 25 h 42 min in
 * all, so that a receiver down for a day still gets every event; jitter only lengthens it.
 */
export const defaultRetrySchedule = "5s,30s,2m,10m,30m,1h,2h,4h,8h,10h";

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** "5s,30s,2m" -> [5000, 30000, 120000]; throws a message saying the allowed form. */
export function parseRetrySchedule(text: string): number[] {
  const waits = text.split(",").map((part) => {
    const match = /^\s*(\d+)(ms|s|m|h)\s*$/.exec(part);
    if (!match) throw new Error(`"${part}" is not a wait: use <number><ms|s|m|h>, e.g. 5s,30s,2m,1h`);
    return Number(match[1]) * units[match[2]!]!;
  });
  if (waits.length === 0 || waits.length > 50) throw new Error("between 1 and 50 waits");
  return waits;
}

const flag = z.enum(["true", "false"], { message: "true or false" }).default("false");

/** The delivery service's environment (main.ts): the one declaration of every variable it reads. */
export const deliveryEnvSchema = z.object({
  DATABASE_URL: sharedEnv.DATABASE_URL,
  // The gateway's own rules and defaults: the delivery service reads the schemas the gateway reads.
  PROJECTION_SCHEMA: gatewayEnvSchema.shape.PROJECTION_SCHEMA,
  GATEWAY_SCHEMA: gatewayEnvSchema.shape.GATEWAY_SCHEMA,
  LOG_LEVEL: sharedEnv.LOG_LEVEL,
  /** /health and /metrics, for operators: loopback unless set. */
  DELIVERY_HOST: z.string().min(1).default("127.0.0.1"),
  DELIVERY_PORT: portVar(9467),
  /** Sends in flight at once (a send holds a socket, no database connection). */
  DELIVERY_SENDERS: positive(DEFAULT_SENDERS),
  /** How long one POST may take before it counts as failed (a slow receiver holds one sender this long). */
  DELIVERY_TIMEOUT_MS: positive(10_000),
  /** Waits after each failed attempt, e.g. 5s,30s,2m; after the last, the subscription is failing. */
  DELIVERY_RETRY_SCHEDULE: z
    .string()
    .default(defaultRetrySchedule)
    .transform((value, ctx) => {
      try {
        return parseRetrySchedule(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  /** Send to loopback / private / link-local addresses (local runs and tests, where receivers are on 127.0.0.1). */
  DELIVERY_ALLOW_PRIVATE_URLS: flag,
  /** Fallback poll of the feed and the outbox when no notification comes (another instance's work, resumes). */
  DELIVERY_POLL_MS: positive(1_000),
  /** How long an instance owns a subscription's outbox filling before another may take it over. */
  DELIVERY_LEASE_MS: z.coerce.number().int().min(1_000).default(30_000),
  /**
   * Delivered and withheld outbox rows (with their attempts) are kept this many days, for the delivery log
   * and "redeliver from this event"; then deleted. Pending and failed rows are never deleted.
   */
  DELIVERY_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  /** Unhealthy when the feed is ahead and no subscription's outbox advanced for this long. */
  DELIVERY_STALL_AFTER_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** Test only: SIGKILL the process once this many POSTs were answered, before the answer is recorded. */
  DELIVERY_TEST_KILL_AFTER_SENDS: z.coerce.number().int().min(1).optional(),
});

export type DeliveryOptions = {
  databaseUrl: string;
  projectionSchema: string;
  gatewaySchema: string;
  host: string;
  port: number;
  senders: number;
  timeoutMs: number;
  retrySchedule: number[];
  allowPrivateUrls: boolean;
  pollMs: number;
  leaseMs: number;
  stallAfterMs: number;
  retentionDays: number;
  killAfterSends?: number;
};

/** The delivery service's environment from typed values, validated here (for npm start, compose). */
export function deliveryEnvironment(values: EnvValues<typeof deliveryEnvSchema>): Record<string, string> {
  return buildEnv(deliveryEnvSchema, values, "delivery");
}

/** Parses the environment (ConfigError naming each wrong variable) into the service's options. */
export function deliveryOptionsFromEnv(env: Record<string, string | undefined>): {
  options: DeliveryOptions;
  logLevel: LogLevel;
} {
  const config = parseConfig(deliveryEnvSchema, env, "delivery");
  return {
    logLevel: config.LOG_LEVEL,
    options: {
      databaseUrl: config.DATABASE_URL,
      projectionSchema: config.PROJECTION_SCHEMA,
      gatewaySchema: config.GATEWAY_SCHEMA,
      host: config.DELIVERY_HOST,
      port: config.DELIVERY_PORT,
      senders: config.DELIVERY_SENDERS,
      timeoutMs: config.DELIVERY_TIMEOUT_MS,
      retrySchedule: config.DELIVERY_RETRY_SCHEDULE,
      allowPrivateUrls: config.DELIVERY_ALLOW_PRIVATE_URLS === "true",
      pollMs: config.DELIVERY_POLL_MS,
      leaseMs: config.DELIVERY_LEASE_MS,
      stallAfterMs: config.DELIVERY_STALL_AFTER_MS,
      retentionDays: config.DELIVERY_RETENTION_DAYS,
      killAfterSends: config.DELIVERY_TEST_KILL_AFTER_SENDS,
    },
  };
}
