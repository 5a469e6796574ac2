import { z } from "zod";
import { ConfigError } from "./errors.ts";

/**
 * Parses environment-style configuration once, at a process's entry point, and turns every problem into
 * one ConfigError that lists each variable with what to set. Nothing below the entry point reads
 * `process.env`: the parsed options travel in the `Common` context.
 */
export function parseConfig<TSchema extends z.ZodType>(
  schema: TSchema,
  env: Record<string, string | undefined>,
  service: string,
): z.output<TSchema> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = issue.path.join(".") || "(root)";
    const received = env[key];
    const shown = received === undefined ? "it is not set" : `got ${JSON.stringify(received)}`;
    return `- ${key}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(`Invalid configuration for ${service}: set the variables below.`, {
    details: lines.join("\n"),
  });
}

/**
 * The variables of a service's environment schema, typed by name: a key the schema does not declare is a
 * type error, a variable it requires must be given. Values are written as strings.
 */
export type EnvValues<TSchema extends z.ZodType> = {
  [K in keyof z.input<TSchema>]: string | number | boolean | undefined;
};

/**
 * Builds a service's environment from typed values and validates it with the service's own schema, so
 * that whoever starts the service (npm start, the load tests) cannot set a variable it does not read, and
 * a bad value fails here, naming the variable, rather than in the child process.
 */
export function buildEnv<TSchema extends z.ZodType>(
  schema: TSchema,
  values: EnvValues<TSchema>,
  service: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    if (value !== undefined) env[key] = String(value);
  }
  parseConfig(schema, env, service);
  return env;
}

/** The variable names an environment schema declares (objects, and intersections of them). */
export function envVariables(schema: z.ZodType): string[] {
  if (schema instanceof z.ZodObject) return Object.keys(schema.shape);
  if (schema instanceof z.ZodIntersection)
    return [
      ...new Set([
        ...envVariables(schema.def.left as z.ZodType),
        ...envVariables(schema.def.right as z.ZodType),
      ]),
    ];
  if (schema instanceof z.ZodPipe) return envVariables(schema.def.in as z.ZodType);
  throw new TypeError("envVariables: expected an object schema (or an intersection of objects)");
}

const hostPorts = /^[^,\s]+:\d+(,[^,\s]+:\d+)*$/;

/**
 * The variables several services read, declared once: each service's schema spreads the ones it reads,
 * so that KAFKA_BROKERS (say) has one rule and one message everywhere.
 */
export const sharedEnv = {
  DATABASE_URL: z
    .string({ error: "set DATABASE_URL to postgres://user:password@host:port/database" })
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// URL"),
  KAFKA_BROKERS: z
    .string({ error: "set KAFKA_BROKERS to host:port[,host:port...]" })
    .regex(hostPorts, "expected host:port[,host:port...]"),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, "letters, digits, '.', '_' and '-'")
    .default("carechain"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
} as const;

/** A TCP port variable (0: any free port). */
export const portVar = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);
