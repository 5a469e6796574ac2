// @carechain/system: the whole CareChain system on one machine (`npm start`), its demo and the query CLI.
export {
  type CatchUpProbe,
  type CatchUpState,
  createCatchUpProbe,
} from "./caught-up.ts";
export {
  jwtSecretFor,
  loadSystemConfig,
  type ServicePorts,
  type SystemConfig,
  type SystemNames,
} from "./config.ts";
export { type DemoAccount, demoAccountList, demoAccounts, findDemoAccount } from "./demo/accounts.ts";
export { type DemoResult, demoId, seedDemo } from "./demo/scenario.ts";
export { CatchUpTimeoutError, UsageError } from "./errors.ts";
export {
  type RunningService,
  type ServiceName,
  type ServiceSpec,
  serviceStages,
} from "./services.ts";
export {
  formatStatus,
  formatSupervision,
  type MetricSample,
  metricSum,
  metricValue,
  parsePrometheusText,
  StatusLine,
  type StatusSample,
} from "./status-line.ts";
export {
  type GivenServers,
  type RunningSystem,
  type StartSystemOptions,
  startSystem,
} from "./system.ts";
export { readSystemFile, type SystemFile } from "./system-file.ts";
