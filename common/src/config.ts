import type { z } from "zod";
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
