import {
  type Account,
  type Address,
  type Chain,
  getContract,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
  zeroHash,
} from "viem";
import {
  consentManagerAbi,
  identityRegistryAbi,
  recordRegistryAbi,
  vitalsMonitorAbi,
} from "../../generated/abis.ts";
import type { OrganizationKindCode, RecordTypeCode } from "../codes.ts";
import type { Deployment } from "../deployment.ts";
import { randomRecordId } from "../ids.ts";
import { toCareChainError } from "./decode-revert.ts";
import {
  type RecordAuthorization,
  recordAuthorizationTypedData,
  type SignedRecordAuthorization,
} from "./record-authorization.ts";
import {
  type ClientContext,
  requireAccount,
  sendContractCall,
  type TransactionResult,
} from "./transaction.ts";

export type CreateCareChainClientOptions = {
  publicClient: PublicClient<Transport, Chain | undefined>;
  /** Needed for every write; without it (or without an account) writes throw NoAccountError. */
  walletClient?: WalletClient<Transport, Chain | undefined, Account | undefined>;
  deployment: Deployment;
  /** Receipt polling interval, ms (default: the public client's). */
  pollingIntervalMs?: number;
  /**
   * How long a write waits for its receipt before ReceiptTimeoutError (default 60 s); it gives up sooner
   * when the node stops answering.
   */
  receiptTimeoutMs?: number;
};

/** A uint64 (seconds) given as a number or a bigint. */
type Seconds = number | bigint;

export type Reading = { measuredAt: Seconds; systolic: number; diastolic: number };

/** Typed access to the CareChain contracts: one method per action, each checked before it is sent. */
export function createCareChainClient(options: CreateCareChainClientOptions) {
  const { deployment, publicClient } = options;
  const ctx: ClientContext = {
    publicClient,
    walletClient: options.walletClient,
    deployment,
    pollingIntervalMs: options.pollingIntervalMs,
    receiptTimeoutMs: options.receiptTimeoutMs,
  };
  const addresses = {
    identityRegistry: deployment.contracts.IdentityRegistry.address,
    consentManager: deployment.contracts.ConsentManager.address,
    recordRegistry: deployment.contracts.RecordRegistry.address,
    vitalsMonitor: deployment.contracts.VitalsMonitor.address,
  } as const;

  const identity = (functionName: string, args: readonly unknown[]) =>
    sendContractCall(ctx, {
      address: addresses.identityRegistry,
      abi: identityRegistryAbi,
      functionName,
      args,
    });
  const consent = (functionName: string, args: readonly unknown[]) =>
    sendContractCall(ctx, { address: addresses.consentManager, abi: consentManagerAbi, functionName, args });
  const records = (functionName: string, args: readonly unknown[]) =>
    sendContractCall(ctx, { address: addresses.recordRegistry, abi: recordRegistryAbi, functionName, args });
  const vitals = (functionName: string, args: readonly unknown[]) =>
    sendContractCall(ctx, { address: addresses.vitalsMonitor, abi: vitalsMonitorAbi, functionName, args });

  /** Read-only contract instances (`client.read.consentManager.read.hasAccess([...])`). */
  const read = {
    identityRegistry: getContract({
      address: addresses.identityRegistry,
      abi: identityRegistryAbi,
      client: publicClient,
    }),
    consentManager: getContract({
      address: addresses.consentManager,
      abi: consentManagerAbi,
      client: publicClient,
    }),
    recordRegistry: getContract({
      address: addresses.recordRegistry,
      abi: recordRegistryAbi,
      client: publicClient,
    }),
    vitalsMonitor: getContract({
      address: addresses.vitalsMonitor,
      abi: vitalsMonitorAbi,
      client: publicClient,
    }),
  };

  return {
    deployment,
    addresses,
    read,
    /** The connected account's address, if any. */
    get account(): Address | undefined {
      return options.walletClient?.account?.address;
    },

    // IdentityRegistry
    registerPatient: (p: { profileHash: Hex; encryptionKey: Hex }): Promise<TransactionResult> =>
      identity("registerPatient", [p.profileHash, p.encryptionKey]),
    registerDoctor: (p: {
      profileHash: Hex;
      encryptionKey: Hex;
      licenseHash: Hex;
    }): Promise<TransactionResult> =>
      identity("registerDoctor", [p.profileHash, p.encryptionKey, p.licenseHash]),
    registerOrganization: (p: {
      kind: OrganizationKindCode;
      profileHash: Hex;
      encryptionKey: Hex;
    }): Promise<TransactionResult> =>
      identity("registerOrganization", [p.kind, p.profileHash, p.encryptionKey]),
    updateProfile: (p: { profileHash: Hex; encryptionKey: Hex }): Promise<TransactionResult> =>
      identity("updateProfile", [p.profileHash, p.encryptionKey]),
    /** Admin only. */
    setRegistrar: (p: { organization: Address; enabled: boolean }): Promise<TransactionResult> =>
      identity("setRegistrar", [p.organization, p.enabled]),
    /** Registrar hospitals only. */
    verifyDoctor: (p: { doctor: Address }): Promise<TransactionResult> =>
      identity("verifyDoctor", [p.doctor]),
    revokeDoctorVerification: (p: { doctor: Address }): Promise<TransactionResult> =>
      identity("revokeDoctorVerification", [p.doctor]),

    // ConsentManager
    /** `scopes`: a mask of `scopes.*`; `expiresAt`: unix seconds, 0 (default) for no expiry. */
    grantAccess: (p: { grantee: Address; scopes: number; expiresAt?: Seconds }): Promise<TransactionResult> =>
      consent("grantAccess", [p.grantee, p.scopes, BigInt(p.expiresAt ?? 0)]),
    changeAccess: (p: {
      grantee: Address;
      scopes: number;
      expiresAt?: Seconds;
    }): Promise<TransactionResult> =>
      consent("changeAccess", [p.grantee, p.scopes, BigInt(p.expiresAt ?? 0)]),
    revokeAccess: (p: { grantee: Address }): Promise<TransactionResult> =>
      consent("revokeAccess", [p.grantee]),
    /** Verified doctors; `reasonHash` = hash of the stated reason, `durationSeconds` <= 24 h. */
    openEmergencyAccess: (p: {
      patient: Address;
      reasonHash: Hex;
      durationSeconds: Seconds;
    }): Promise<TransactionResult> =>
      consent("openEmergencyAccess", [p.patient, p.reasonHash, BigInt(p.durationSeconds)]),
    closeEmergencyAccess: (p: { doctor: Address }): Promise<TransactionResult> =>
      consent("closeEmergencyAccess", [p.doctor]),

    // RecordRegistry
    /** `recordId` defaults to a random id; it is returned with the result. */
    addRecord: async (p: {
      patient: Address;
      recordId?: Hex;
      recordType: RecordTypeCode;
      contentHash: Hex;
      storagePointer: Hex;
    }): Promise<TransactionResult & { recordId: Hex }> => {
      const recordId = p.recordId ?? randomRecordId();
      const result = await records("addRecord", [
        p.patient,
        recordId,
        p.recordType,
        p.contentHash,
        p.storagePointer,
      ]);
      return { ...result, recordId };
    },
    amendRecord: async (p: {
      previousRecordId: Hex;
      recordId?: Hex;
      contentHash: Hex;
      storagePointer: Hex;
    }): Promise<TransactionResult & { recordId: Hex }> => {
      const recordId = p.recordId ?? randomRecordId();
      const result = await records("amendRecord", [
        p.previousRecordId,
        recordId,
        p.contentHash,
        p.storagePointer,
      ]);
      return { ...result, recordId };
    },
    /**
     * Signs (EIP-712, with the connected account as author) an authorization a hospital can relay with
     * addRecordBySig. `nonce` defaults to the author's next nonce on chain, `deadline` to one hour after the
     * latest block, `previousRecordId` to zero (an original record), `recordId` to a random id.
     */
    signRecordAuthorization: async (p: {
      patient: Address;
      recordId?: Hex;
      recordType: RecordTypeCode;
      contentHash: Hex;
      storagePointer: Hex;
      previousRecordId?: Hex;
      nonce?: bigint;
      deadline?: bigint;
    }): Promise<SignedRecordAuthorization> => {
      const action = "sign a record authorization";
      const account = await requireAccount(ctx, action);
      const where = { contractAddress: addresses.recordRegistry, functionName: "nonces", action };
      let nonce = p.nonce;
      let deadline = p.deadline;
      try {
        nonce ??= await read.recordRegistry.read.nonces([account.address]);
        deadline ??= (await publicClient.getBlock()).timestamp + 3600n;
      } catch (error) {
        throw toCareChainError(error, where);
      }
      const authorization: RecordAuthorization = {
        patient: p.patient,
        recordId: p.recordId ?? randomRecordId(),
        recordType: p.recordType,
        contentHash: p.contentHash,
        storagePointer: p.storagePointer,
        previousRecordId: p.previousRecordId ?? zeroHash,
        author: account.address,
        nonce,
        deadline,
      };
      const signature = await ctx.walletClient!.signTypedData({
        account,
        ...recordAuthorizationTypedData(deployment.chainId, addresses.recordRegistry, authorization),
      });
      return { authorization, signature };
    },
    /** Registered hospitals relay a doctor's signed authorization. */
    addRecordBySig: (p: SignedRecordAuthorization): Promise<TransactionResult> =>
      records("addRecordBySig", [p.authorization, p.signature]),

    // VitalsMonitor
    authorizeDevice: (p: { device: Address }): Promise<TransactionResult> =>
      vitals("authorizeDevice", [p.device]),
    revokeDevice: (p: { device: Address }): Promise<TransactionResult> => vitals("revokeDevice", [p.device]),
    setVitalsRange: (p: {
      patient: Address;
      systolicMin: number;
      systolicMax: number;
      diastolicMin: number;
      diastolicMax: number;
    }): Promise<TransactionResult> =>
      vitals("setVitalsRange", [p.patient, p.systolicMin, p.systolicMax, p.diastolicMin, p.diastolicMax]),
    setAlertRecipients: (p: { recipients: readonly Address[] }): Promise<TransactionResult> =>
      vitals("setAlertRecipients", [p.recipients]),
    /** Sent by an authorized device. */
    submitReading: (p: Reading): Promise<TransactionResult> =>
      vitals("submitReading", [BigInt(p.measuredAt), p.systolic, p.diastolic]),
    submitReadings: (p: { readings: readonly Reading[] }): Promise<TransactionResult> =>
      vitals("submitReadings", [
        p.readings.map((r) => ({
          measuredAt: BigInt(r.measuredAt),
          systolic: r.systolic,
          diastolic: r.diastolic,
        })),
      ]),
  };
}

export type CareChainClient = ReturnType<typeof createCareChainClient>;
