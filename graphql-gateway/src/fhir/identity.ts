import type { Device, Organization, Patient, Practitioner, Reference } from "@medplum/fhirtypes";
import { organizationKinds } from "../auth/viewer.ts";
import type { DoctorRow, OrganizationRow, PatientRow } from "../loaders/rows.ts";
import { type Account, accountReference, system } from "./codes.ts";

/**
 * The accounts of the identity registry as FHIR resources, id = the address. The chain holds no names (a
 * profile is a hash and an encryption key, the profile itself encrypted off chain), so none of these has a
 * name: an identifier (the address) is what they are known by.
 */

const accountIdentifier = (address: string) => [
  { use: "official" as const, system: system.account, value: address },
];

export function patientResource(row: PatientRow): Patient {
  return {
    resourceType: "Patient",
    id: row.address,
    meta: { lastUpdated: row.updatedAt.toISOString() },
    identifier: accountIdentifier(row.address),
    active: true,
  };
}

/** A doctor; a verified one carries its verification as a qualification issued by the registrar hospital. */
export function practitionerResource(row: DoctorRow): Practitioner {
  return {
    resourceType: "Practitioner",
    id: row.address,
    meta: { lastUpdated: row.updatedAt.toISOString() },
    identifier: accountIdentifier(row.address),
    active: row.verified,
    ...(row.verified && row.verifiedBy
      ? {
          qualification: [
            {
              code: {
                coding: [{ system: system.verification, code: "verified", display: "Verified doctor" }],
              },
              ...(row.verifiedAt ? { period: { start: row.verifiedAt.toISOString() } } : {}),
              issuer: organizationReference(row.verifiedBy),
            },
          ],
        }
      : {}),
  };
}

/** HL7 organization-type codes for the kinds on chain (laboratories and pharmacies are providers). */
const organizationTypes: Record<number, { code: string; display: string }> = {
  1: { code: "prov", display: "Healthcare Provider" },
  2: { code: "ins", display: "Insurance Company" },
  3: { code: "prov", display: "Healthcare Provider" },
  4: { code: "prov", display: "Healthcare Provider" },
  5: { code: "edu", display: "Educational Institute" },
};

export function organizationResource(row: OrganizationRow): Organization {
  const type = organizationTypes[row.kind] ?? { code: "other", display: "Other" };
  const kindName = organizationKinds[row.kind as keyof typeof organizationKinds];
  return {
    resourceType: "Organization",
    id: row.address,
    meta: { lastUpdated: row.updatedAt.toISOString() },
    identifier: accountIdentifier(row.address),
    active: true,
    type: [
      {
        coding: [
          { system: "http://terminology.hl7.org/CodeSystem/organization-type", ...type },
          ...(kindName ? [{ system: system.organizationKind, code: kindName }] : []),
        ],
      },
    ],
  };
}

export const patientReference = (address: string): Reference<Patient> => ({
  reference: `Patient/${address}`,
});
export const practitionerReference = (address: string): Reference<Practitioner> => ({
  reference: `Practitioner/${address}`,
});
export const organizationReference = (address: string): Reference<Organization> => ({
  reference: `Organization/${address}`,
});
export const deviceReference = (address: string): Reference<Device> => ({ reference: `Device/${address}` });

/** An account by its role: a doctor is a Practitioner, an organization an Organization, a patient a Patient. */
export function actorReference(
  address: string,
  role: "patient" | "doctor" | "organization" | "none",
): Reference<Account> {
  if (role === "doctor") return practitionerReference(address);
  if (role === "organization") return organizationReference(address);
  if (role === "patient") return patientReference(address);
  return accountReference(address);
}
