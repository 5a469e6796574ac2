// @carechain/stack: the local servers (anvil, PostgreSQL, Kafka) for development and tests.
// Test helpers live in @carechain/stack/testing (they need vitest).
export { ANVIL_CHAIN_ID, checkChain, startAnvil } from "./anvil.ts";
export { anvilAccounts, type TestAccount } from "./anvil-accounts.ts";
export { parseConfig, repoRoot, type StackConfig, stackStateDir } from "./config.ts";
export * from "./errors.ts";
export { checkKafka } from "./kafka.ts";
export { createLogger, type Logger, silentLogger } from "./logger.ts";
export { freePort, HOST, isListening } from "./ports.ts";
export { checkPostgres, redact } from "./postgres.ts";
export {
  defaultRestartPolicy,
  type ExitInfo,
  isAlive,
  ManagedProcess,
  type RestartPolicy,
  RestartsExhaustedError,
  readTail,
  type SpawnSpec,
  type StartProcess,
  Supervised,
  type SupervisedStatus,
  type SupervisionEvent,
  type WaitOptions,
  withTimeout,
} from "./processes.ts";
export {
  type RunState,
  readRunState,
  reapStaleRun,
  runFolderName,
  waitUntilGone,
  writeRunState,
} from "./run-state.ts";
export {
  type RunningStack,
  restartNote,
  type ServerInfo,
  type ServerName,
  type StackEndpoints,
  type StackOptions,
  startStack,
} from "./stack.ts";
export { type EndpointsFile, endpointsFile, readEndpointsFile } from "./state-files.ts";
