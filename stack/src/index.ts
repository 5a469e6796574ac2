// @carechain/stack: the local servers (anvil, PostgreSQL, Kafka) for development and tests.
export { checkChain } from "./anvil.ts";
export { parseConfig, repoRoot, type StackConfig, stackStateDir } from "./config.ts";
export * from "./errors.ts";
export { checkKafka } from "./kafka.ts";
export { createLogger, type Logger, silentLogger } from "./logger.ts";
export { checkPostgres } from "./postgres.ts";
export {
  type RunningStack,
  type ServerInfo,
  type ServerName,
  type StackEndpoints,
  type StackOptions,
  startStack,
} from "./stack.ts";
