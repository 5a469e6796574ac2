import { createLogger, type Logger, type LogLevel } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { Shutdown } from "./shutdown.ts";

/**
 * What every long-running piece receives, as ponder's `Common`: the parsed options, the logger, the
 * metrics registry and the shutdown coordinator. Built once at the entry point.
 */
export type Common<TOptions> = {
  options: TOptions;
  logger: Logger;
  metrics: Metrics;
  shutdown: Shutdown;
};

export function createCommon<TOptions>(
  service: string,
  options: TOptions,
  overrides: { logLevel?: LogLevel; logger?: Logger; shutdownTimeoutMs?: number } = {},
): Common<TOptions> {
  const logger =
    overrides.logger ??
    createLogger({ service, ...(overrides.logLevel ? { level: overrides.logLevel } : {}) });
  return {
    options,
    logger,
    metrics: new Metrics({ service }),
    shutdown: new Shutdown(logger, overrides.shutdownTimeoutMs),
  };
}
