import type { AuditEntry } from "../audit/audit-log.ts";

/** Addresses for audit tests: two patients, a doctor and an insurer (lower case, as entries hold them). */
export const auditAddresses = {
  patient: "0x00000000000000000000000000000000000000a1",
  other: "0x00000000000000000000000000000000000000a2",
  doctor: "0x00000000000000000000000000000000000000b1",
  insurer: "0x00000000000000000000000000000000000000b2",
} as const;

/** An audit entry: the doctor read the patient's profile under a grant, in request `requestId`; `extra` changes it. */
export const auditEntry = (requestId: string, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  viewer: auditAddresses.doctor,
  patient: auditAddresses.patient,
  what: "profile",
  rule: "grant",
  grantScopes: 5,
  grantGrantedAt: new Date(1_764_500_000_000),
  accessExpiresAt: null,
  channel: "query",
  requestId,
  readAt: new Date(1_764_500_100_000),
  ...extra,
});
