// @carechain/contracts: ABIs (also at @carechain/contracts/abis), the deployment (file, deploy), code tables,
// the typed client and its errors.
export {
  careChainErrorsAbi,
  careChainEventsAbi,
  consentManagerAbi,
  identityRegistryAbi,
  recordRegistryAbi,
  vitalsMonitorAbi,
} from "../generated/abis.ts";
export { chainFor } from "./chain.ts";
export * from "./client/index.ts";
export * from "./codes.ts";
export { type DeployCareChainOptions, type DeployCareChainResult, deployCareChain } from "./deploy.ts";
export {
  type ContractName,
  contractNames,
  type Deployment,
  defaultDeploymentsDir,
  deploymentId,
  deploymentPath,
  deploymentSchema,
  isDeployedOn,
  parseDeployment,
  readDeployment,
  readDeploymentFile,
  type WatchedContracts,
  watchedContracts,
  writeDeployment,
  writeDeploymentFile,
} from "./deployment.ts";
export { ensureDeployment } from "./ensure-deployment.ts";
export * from "./errors.ts";
export { hashText, randomBytes32, randomRecordId } from "./ids.ts";
