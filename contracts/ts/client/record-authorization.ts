import { type Address, type Hex, type TypedDataDomain, zeroHash } from "viem";

/** EIP-712 domain name and version of the RecordRegistry. */
export const RECORD_REGISTRY_DOMAIN = { name: "CareChain RecordRegistry", version: "1" } as const;

/** EIP-712 types of a record authorization (mirrors IRecordRegistry.RecordAuthorization). */
export const recordAuthorizationTypes = {
  RecordAuthorization: [
    { name: "patient", type: "address" },
    { name: "recordId", type: "bytes32" },
    { name: "recordType", type: "uint16" },
    { name: "contentHash", type: "bytes32" },
    { name: "storagePointer", type: "bytes" },
    { name: "previousRecordId", type: "bytes32" },
    { name: "author", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** What a doctor signs so that a hospital can submit the record for them (`addRecordBySig`). */
export type RecordAuthorization = {
  patient: Address;
  recordId: Hex;
  recordType: number;
  contentHash: Hex;
  storagePointer: Hex;
  /** Zero for an original record; the latest version's id for an amendment. */
  previousRecordId: Hex;
  author: Address;
  nonce: bigint;
  /** Unix seconds after which the signature is refused. */
  deadline: bigint;
};

export type SignedRecordAuthorization = { authorization: RecordAuthorization; signature: Hex };

export function recordRegistryDomain(chainId: number, verifyingContract: Address): TypedDataDomain {
  return { ...RECORD_REGISTRY_DOMAIN, chainId, verifyingContract };
}

/** The full typed data to sign (for wallets that take the whole object, e.g. eth_signTypedData_v4). */
export function recordAuthorizationTypedData(
  chainId: number,
  verifyingContract: Address,
  message: RecordAuthorization,
) {
  return {
    domain: recordRegistryDomain(chainId, verifyingContract),
    types: recordAuthorizationTypes,
    primaryType: "RecordAuthorization",
    message,
  } as const;
}

export const ORIGINAL_RECORD = zeroHash;
