export {
  type CareChainClient,
  type CreateCareChainClientOptions,
  createCareChainClient,
  type Reading,
} from "./client.ts";
export { toCareChainError } from "./decode-revert.ts";
export {
  ORIGINAL_RECORD,
  RECORD_REGISTRY_DOMAIN,
  type RecordAuthorization,
  recordAuthorizationTypedData,
  recordAuthorizationTypes,
  recordRegistryDomain,
  type SignedRecordAuthorization,
} from "./record-authorization.ts";
export { type CareChainErrorName, revertMessage, revertMessages } from "./revert-messages.ts";
export type { CareChainEvent, TransactionResult } from "./transaction.ts";
