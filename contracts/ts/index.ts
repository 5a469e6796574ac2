// @carechain/contracts: ABIs (also at @carechain/contracts/abis), deployment, code tables and the typed client.
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
  type DeployedContract,
  type Deployment,
  DeploymentFileError,
  defaultDeploymentsDir,
  deploymentPath,
  deploymentSchema,
  parseDeployment,
  readDeployment,
  writeDeployment,
} from "./deployment.ts";
export { hashText, randomBytes32, randomRecordId } from "./ids.ts";
