import { destination, type Logger, pino } from "pino";

export type { Logger };
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * Structured JSON logs on stderr. Health data never goes into logs: callers log ids, hashes, counts and
 * block numbers only, and the redaction list below is a second line of defence for fields that must never
 * appear even by mistake.
 */
export function createLogger(options: { service: string; level?: LogLevel }): Logger {
  return pino(
    {
      name: options.service,
      level: options.level ?? "info",
      base: { service: options.service },
      redact: {
        paths: ["*.privateKey", "*.token", "*.authorization", "*.password", "*.signature"],
        censor: "[redacted]",
      },
    },
    destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for unit tests. */
export function createSilentLogger(): Logger {
  return pino({ level: "silent" });
}
