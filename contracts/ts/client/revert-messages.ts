import type { ContractErrorArgs, ContractErrorName } from "viem";
import type { careChainErrorsAbi } from "../../generated/abis.ts";

type ErrorsAbi = typeof careChainErrorsAbi;
export type CareChainErrorName = ContractErrorName<ErrorsAbi>;

type Messages = {
  [Name in CareChainErrorName]: (args: ContractErrorArgs<ErrorsAbi, Name>) => string;
};

/** A sentence per custom error of the CareChain contracts (the type makes a missing one a compile error). */
export const revertMessages: Messages = {
  // IdentityRegistry
  AlreadyRegistered: ([account]) => `${account} is already registered.`,
  NotRegistered: ([account]) => `${account} is not registered.`,
  ZeroHash: () => "A hash must not be zero.",
  ZeroEncryptionKey: () => "The encryption public key must not be zero.",
  InvalidOrganizationKind: ([kind]) => `Organization kind ${kind} does not exist (use 1 to 5).`,
  NotAHospital: ([account]) => `${account} is not a registered hospital.`,
  NotADoctor: ([account]) => `${account} is not a registered doctor.`,
  NotARegistrar: ([account]) => `${account} is not a registrar hospital.`,
  AlreadyVerified: ([doctor]) => `Doctor ${doctor} is already verified.`,
  NotVerified: ([doctor]) => `Doctor ${doctor} is not verified.`,
  OwnableUnauthorizedAccount: ([account]) => `${account} is not the registry admin.`,
  OwnableInvalidOwner: ([owner]) => `${owner} cannot be the registry admin.`,
  // ConsentManager
  NotAPatient: ([account]) => `${account} is not a registered patient.`,
  SelfGrant: () => "A patient cannot grant access to themself.",
  InvalidScopes: ([scopes]) =>
    `Scopes ${scopes} are invalid: combine READ_RECORDS (1), WRITE_RECORDS (2), READ_VITALS (4).`,
  ExpiryInPast: ([expiresAt]) => `The expiry ${expiresAt} is not in the future (use 0 for no expiry).`,
  GrantAlreadyActive: ([, grantee]) => `${grantee} already holds an active grant: change it instead.`,
  NoActiveGrant: ([, grantee]) => `${grantee} holds no active grant.`,
  NoGrant: ([, grantee]) => `${grantee} holds no grant to revoke.`,
  NotAVerifiedDoctor: ([account]) => `${account} is not a verified doctor.`,
  BadEmergencyDuration: ([duration]) =>
    `Emergency access lasts 1 second to 24 hours, not ${duration} seconds.`,
  NoEmergencyAccess: ([, doctor]) => `Doctor ${doctor} holds no open emergency access.`,
  // RecordRegistry
  NoWriteAccess: ([patient, account]) =>
    `${account} may not write for patient ${patient}: no active write grant.`,
  ZeroRecordId: () => "The record id must not be zero.",
  EmptyPointer: () => "The storage pointer is empty.",
  PointerTooLong: ([length]) => `The storage pointer is ${length} bytes long; at most 512 are allowed.`,
  UnknownRecordType: ([recordType]) => `Record type ${recordType} does not exist (use 1 to 8).`,
  RecordExists: ([recordId]) => `A record with id ${recordId} already exists.`,
  UnknownRecord: ([recordId]) => `No record has id ${recordId}.`,
  AlreadySuperseded: ([recordId, by]) =>
    `Record ${recordId} was already amended by ${by}: amend the latest version instead.`,
  PatientMismatch: ([recordId, patient]) => `Record ${recordId} does not belong to patient ${patient}.`,
  RecordTypeMismatch: ([recordId, recordType]) => `Record ${recordId} is not of record type ${recordType}.`,
  SignatureExpired: ([deadline]) => `The signed authorization expired at ${deadline}.`,
  InvalidNonce: ([author, expected]) =>
    `Wrong nonce for ${author}: expected ${expected} (already used or skipped).`,
  InvalidSignature: () => "The signature was not made by the record's author.",
  NotARelayer: ([account]) => `${account} is not a registered hospital and cannot relay signed records.`,
  InvalidAccountNonce: ([account, current]) => `Wrong nonce for ${account}: current is ${current}.`,
  InvalidShortString: () => "Invalid short string.",
  StringTooLong: ([text]) => `String too long: ${text}.`,
  // VitalsMonitor
  DeviceAlreadyAuthorized: ([device]) => `Device ${device} is already bound to a patient.`,
  UnknownDevice: ([device]) => `Device ${device} is not authorized for this patient.`,
  BadRange: () => "The range is invalid: 0 < min < max <= 300 for systolic and diastolic pressure.",
  TooManyRecipients: ([count]) => `${count} alert recipients given; at most 10 are allowed.`,
  InvalidReading: ([systolic, diastolic]) =>
    `Reading ${systolic}/${diastolic} mmHg is invalid: 0 < diastolic < systolic <= 300.`,
  ReadingInFuture: ([measuredAt]) => `The reading is dated ${measuredAt}, more than 5 minutes in the future.`,
  EmptyBatch: () => "The batch holds no reading.",
  BatchTooLarge: ([size]) => `The batch holds ${size} readings; at most 100 are allowed.`,
};

export function revertMessage(errorName: string, args: readonly unknown[]): string {
  const format = (
    revertMessages as unknown as Record<string, ((args: readonly unknown[]) => string) | undefined>
  )[errorName];
  return format ? format(args) : `The contract reverted with ${errorName}(${args.map(String).join(", ")}).`;
}
