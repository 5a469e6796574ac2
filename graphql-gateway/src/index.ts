export { type AuditChannel, type AuditEntry, AuditLog, type AuditSink } from "./audit/audit-log.ts";
export { bearerToken, issueAccessToken, verifyAccessToken } from "./auth/jwt.ts";
export { NonceStore } from "./auth/nonces.ts";
export { SignInService, type SiweSettings } from "./auth/siwe.ts";
export { anonymousViewer, loadViewer, type Role, type Viewer } from "./auth/viewer.ts";
export { type SignInResult, signIn } from "./client/sign-in.ts";
export { gatewayEnvironment, gatewayEnvSchema } from "./config.ts";
export { migrateGatewaySchema } from "./database/migrate.ts";
export { createDatabase, type Database } from "./database/pool.ts";
export {
  AuditUnavailableError,
  CompositionError,
  type ErrorCode,
  GatewayError,
  SignInError,
  SignInFailedError,
  type SignInFailure,
  UnauthenticatedError,
} from "./errors.ts";
export { composeSupergraph } from "./gateway/compose.ts";
export { measureOperation } from "./gateway/limits.ts";
export { type GatewayContext, type RunningGateway, startGateway } from "./gateway/server.ts";
export { signViewerContext, verifyViewerContext, viewerContextHeader } from "./gateway/viewer-context.ts";
export { DoctorFetch, operations, PatientFetch } from "./operations.ts";
export { defaultLimits, type GatewayOptions, type Limits, type SubgraphName } from "./options.ts";
export * as policy from "./policy/index.ts";
export { RequestPolicy } from "./policy/index.ts";
export {
  ourSubgraphs,
  type RunningSubgraph,
  type SubgraphContext,
  type SubgraphDefinition,
  startSubgraphServer,
  startSubgraphs,
} from "./subgraphs/index.ts";
export { AddressScalar, DateTimeScalar, scalarResolvers } from "./subgraphs/scalars.ts";
