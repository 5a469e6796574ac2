/**
 * The systems and codes of CareChain's FHIR R4 resources, in one place: standard terminologies (LOINC,
 * UCUM, HL7's code systems) where one fits, and `urn:carechain:*` systems for what only the chain knows
 * (account addresses, record ids, scopes, record types).
 */
import { createHash } from "node:crypto";
import type { Coding, Organization, Patient, Practitioner, Reference } from "@medplum/fhirtypes";

export const fhirVersion = "4.0.1";
export const fhirMediaType = "application/fhir+json";

/** Our own code and identifier systems. */
export const system = {
  /** An Ethereum account (lower-case 0x address): patients, doctors, organizations, devices. */
  account: "urn:carechain:account",
  /** A record's 32-byte id (0x hex), on chain. */
  record: "urn:carechain:record",
  /** The SHA-256 of a record's encrypted document (0x hex), as written on chain. */
  contentHash: "urn:carechain:content-sha256",
  /** The id of the chain event behind a resource (`chainId:blockHash:logIndex`). */
  event: "urn:carechain:event",
  /** CareChainTypes.RECORD_* (code = the number on chain). */
  recordType: "urn:carechain:record-type",
  /** CareChainTypes.SCOPE_* by name (READ_RECORDS, WRITE_RECORDS, READ_VITALS). */
  scope: "urn:carechain:scope",
  /** CareChainTypes.ORG_* by name (hospital, insurer, ...). */
  organizationKind: "urn:carechain:organization-kind",
  /** What of a patient's data was read (profile, records, vitals, alerts), in the access log. */
  readKind: "urn:carechain:read-kind",
  /** Why a read was allowed (grant, emergency, alert-recipient), in the access log. */
  accessRule: "urn:carechain:access-rule",
  /** A gateway request id (x-request-id), in the access log. */
  request: "urn:carechain:request",
  /** Flags raised by the vitals monitor. */
  alert: "urn:carechain:alert",
  /** A doctor's verification by a registrar hospital. */
  verification: "urn:carechain:verification",
} as const;

export const loinc = "http://loinc.org";
export const ucum = "http://unitsofmeasure.org";

export const bloodPressure = {
  panel: { system: loinc, code: "85354-9", display: "Blood pressure panel with all children optional" },
  systolic: { system: loinc, code: "8480-6", display: "Systolic blood pressure" },
  diastolic: { system: loinc, code: "8462-4", display: "Diastolic blood pressure" },
  /** UCUM millimetres of mercury. */
  unit: { unit: "mmHg", system: ucum, code: "mm[Hg]" },
} as const satisfies Record<string, Coding | object>;

export const vitalSignsCategory: Coding = {
  system: "http://terminology.hl7.org/CodeSystem/observation-category",
  code: "vital-signs",
  display: "Vital Signs",
};

/** What an account is in FHIR: a patient, a doctor (Practitioner) or an organization. */
export type Account = Patient | Practitioner | Organization;

/** A reference to an account by address only (a grantee the projections do not know as any of those). */
export function accountReference(address: string): Reference<Account> {
  return { identifier: { system: system.account, value: address } };
}

/** `0x` + hex (an address, a 32-byte id) as a FHIR id (`[A-Za-z0-9\-\.]{1,64}`): 32-byte ids lose the 0x. */
export function fhirId(hex: string): string {
  const lower = hex.toLowerCase();
  return lower.length > 64 ? lower.replace(/^0x/, "") : lower;
}

/** A 0x hex digest as base64Binary (Attachment.hash). */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex.replace(/^0x/, ""), "hex").toString("base64");
}

/** An id too long for FHIR (a chain event id `chainId:0xblockHash:logIndex`, a pair of addresses) as one: its SHA-256, hex. */
export function digestId(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
