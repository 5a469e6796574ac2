/** Projection rows as the resolvers use them (camel case, numbers as numbers). */

export type PatientRow = {
  address: string;
  profileHash: string;
  encryptionKey: string;
  registeredBlock: number;
  registeredAt: Date;
  updatedAt: Date;
};

export type DoctorRow = {
  address: string;
  profileHash: string;
  encryptionKey: string;
  licenseHash: string;
  verified: boolean;
  verifiedBy: string | null;
  verifiedAt: Date | null;
  registeredBlock: number;
  registeredAt: Date;
  updatedAt: Date;
};

export type OrganizationRow = {
  address: string;
  kind: number;
  profileHash: string;
  encryptionKey: string;
  isRegistrar: boolean;
  registeredBlock: number;
  registeredAt: Date;
  updatedAt: Date;
};

export type GrantRow = {
  patient: string;
  grantee: string;
  scopes: number;
  expiresAt: Date | null;
  grantedAt: Date;
  updatedAt: Date;
  revokedAt: Date | null;
};

export type EmergencyRow = {
  patient: string;
  doctor: string;
  expiresAt: Date;
  reasonHash: string;
  openedAt: Date;
  closedAt: Date | null;
};

export type RecordRow = {
  recordId: string;
  patient: string;
  author: string;
  submitter: string;
  recordType: number;
  contentHash: string;
  storagePointer: string;
  previousRecordId: string | null;
  rootRecordId: string;
  version: number;
  supersededBy: string | null;
  blockNumber: number;
  blockTime: Date;
  logIndex: number;
};

export type ReadingRow = {
  eventId: string;
  patient: string;
  device: string;
  measuredAt: Date;
  systolic: number;
  diastolic: number;
  blockNumber: number;
  blockTime: Date;
};

export type AlertRow = ReadingRow & { recipients: string[] };

export type VitalsRangeRow = {
  patient: string;
  setBy: string;
  systolicMin: number;
  systolicMax: number;
  diastolicMin: number;
  diastolicMax: number;
  updatedAt: Date;
};

export const patientColumns = (a: string) =>
  `${a}.address, ${a}.profile_hash AS "profileHash", ${a}.encryption_key AS "encryptionKey",
   ${a}.registered_block::float8 AS "registeredBlock", ${a}.registered_at AS "registeredAt", ${a}.updated_at AS "updatedAt"`;

export const doctorColumns = (a: string) =>
  `${a}.address, ${a}.profile_hash AS "profileHash", ${a}.encryption_key AS "encryptionKey",
   ${a}.license_hash AS "licenseHash", ${a}.verified, ${a}.verified_by AS "verifiedBy", ${a}.verified_at AS "verifiedAt",
   ${a}.registered_block::float8 AS "registeredBlock", ${a}.registered_at AS "registeredAt", ${a}.updated_at AS "updatedAt"`;

export const organizationColumns = (a: string) =>
  `${a}.address, ${a}.kind, ${a}.profile_hash AS "profileHash", ${a}.encryption_key AS "encryptionKey",
   ${a}.is_registrar AS "isRegistrar", ${a}.registered_block::float8 AS "registeredBlock",
   ${a}.registered_at AS "registeredAt", ${a}.updated_at AS "updatedAt"`;

export const grantColumns = (a: string) =>
  `${a}.patient, ${a}.grantee, ${a}.scopes, ${a}.expires_at AS "expiresAt", ${a}.granted_at AS "grantedAt",
   ${a}.updated_at AS "updatedAt", ${a}.revoked_at AS "revokedAt"`;

export const emergencyColumns = (a: string) =>
  `${a}.patient, ${a}.doctor, ${a}.expires_at AS "expiresAt", ${a}.reason_hash AS "reasonHash",
   ${a}.opened_at AS "openedAt", ${a}.closed_at AS "closedAt"`;

// version (uint32) and log_index are bigint columns, which pg returns as strings: read as float8 (exact below
// 2^53) so that they stay numbers, like block_number. A version beyond GraphQL's Int (2^31 - 1) is then a
// field error ("Int cannot represent ..."), never a wrong number.
export const recordColumns = (a: string) =>
  `${a}.record_id AS "recordId", ${a}.patient, ${a}.author, ${a}.submitter, ${a}.record_type AS "recordType",
   ${a}.content_hash AS "contentHash", ${a}.storage_pointer AS "storagePointer",
   ${a}.previous_record_id AS "previousRecordId", ${a}.root_record_id AS "rootRecordId", ${a}.version::float8 AS version,
   ${a}.superseded_by AS "supersededBy", ${a}.block_number::float8 AS "blockNumber", ${a}.block_time AS "blockTime",
   ${a}.log_index::float8 AS "logIndex"`;

export const readingColumns = (a: string) =>
  `${a}.event_id AS "eventId", ${a}.patient, ${a}.device, ${a}.measured_at AS "measuredAt", ${a}.systolic,
   ${a}.diastolic, ${a}.block_number::float8 AS "blockNumber", ${a}.block_time AS "blockTime"`;

export const alertColumns = (a: string) => `${readingColumns(a)}, ${a}.recipients`;

export const vitalsRangeColumns = (a: string) =>
  `${a}.patient, ${a}.set_by AS "setBy", ${a}.systolic_min AS "systolicMin", ${a}.systolic_max AS "systolicMax",
   ${a}.diastolic_min AS "diastolicMin", ${a}.diastolic_max AS "diastolicMax", ${a}.updated_at AS "updatedAt"`;
