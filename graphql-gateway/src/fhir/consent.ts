import type { Consent, ConsentProvisionActor } from "@medplum/fhirtypes";
import type { Role } from "../auth/viewer.ts";
import type { GrantRow } from "../loaders/rows.ts";
import { isActiveGrant } from "../policy/active-access.ts";
import { scopeNames } from "../subgraphs/shared.ts";
import { digestId, system } from "./codes.ts";
import { actorReference, patientReference } from "./identity.ts";

const consentAction = "http://terminology.hl7.org/CodeSystem/consentaction";

/** Each scope as the FHIR consent action it permits (reading is `access`, writing a record `correct`). */
const scopeActions: Record<string, { code: string; display: string; text: string }> = {
  READ_RECORDS: { code: "access", display: "Access", text: "Read the patient's records" },
  WRITE_RECORDS: { code: "correct", display: "Access and Correct", text: "Add records for the patient" },
  READ_VITALS: { code: "access", display: "Access", text: "Read the patient's vital signs and alerts" },
};

/**
 * A grant (the current row of `grants`) as a privacy Consent: the patient permits the grantee (the actor)
 * the grant's scopes (one provision action each, in our scope system and HL7's consent actions) for the
 * period from the grant to its expiry. Active while the grant is (the policy's own predicate), inactive
 * once revoked or expired.
 */
export function consentResource(grant: GrantRow, granteeRole: Role, now: Date = new Date()): Consent {
  const actor: ConsentProvisionActor = {
    role: {
      coding: [
        {
          system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
          code: "IRCP",
          display: "information recipient",
        },
      ],
    },
    reference: actorReference(grant.grantee, granteeRole),
  };
  const end = grant.revokedAt ?? grant.expiresAt;
  return {
    resourceType: "Consent",
    // One Consent per patient and grantee (the current row of `grants`): both addresses are too long for an id.
    id: digestId(`grant:${grant.patient}:${grant.grantee}`),
    meta: { lastUpdated: grant.updatedAt.toISOString() },
    status: isActiveGrant(grant, now) ? "active" : "inactive",
    scope: {
      coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }],
    },
    category: [{ coding: [{ system: "http://loinc.org", code: "59284-0", display: "Patient Consent" }] }],
    patient: patientReference(grant.patient),
    dateTime: grant.grantedAt.toISOString(),
    policyRule: {
      coding: [
        { system: "http://terminology.hl7.org/CodeSystem/v3-ActCode", code: "OPTIN", display: "opt-in" },
      ],
    },
    provision: {
      type: "permit",
      period: { start: grant.grantedAt.toISOString(), ...(end ? { end: end.toISOString() } : {}) },
      actor: [actor],
      action: scopeNames(grant.scopes).map((scope) => {
        const action = scopeActions[scope]!;
        return {
          coding: [
            { system: consentAction, code: action.code, display: action.display },
            { system: system.scope, code: scope },
          ],
          text: action.text,
        };
      }),
    },
  };
}
