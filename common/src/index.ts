export { buildEnv, type EnvValues, envVariables, parseConfig, portVar, sharedEnv } from "./config.ts";
export { type Common, createCommon } from "./context.ts";
export {
  BaseError,
  type BaseErrorOptions,
  ConfigError,
  DecodeError,
  isRetryable,
  NonRetryableError,
  RetryableError,
} from "./errors.ts";
export * from "./events/index.ts";
export { type HealthCheck, startHealthServer } from "./health-server.ts";
export { createLogger, createSilentLogger, type Logger, type LogLevel } from "./logger.ts";
export {
  describeFailure,
  exitCodeOf,
  isEntryPoint,
  type MainContext,
  type RunMainOptions,
  runMain,
} from "./main.ts";
export { Metrics } from "./metrics.ts";
export { formatDuration, Progress } from "./progress.ts";
export { type RetryOptions, sleep, withRetry } from "./retry.ts";
export { Shutdown } from "./shutdown.ts";
