import type { CapabilityStatement, CapabilityStatementRestResource } from "@medplum/fhirtypes";
import { fhirMediaType, fhirVersion } from "./codes.ts";

const patientParam = {
  name: "patient",
  definition: "http://hl7.org/fhir/SearchParameter/clinical-patient",
  type: "reference" as const,
  documentation: "Required: the patient's account address (`0x…` or `Patient/0x…`).",
};

/** The searches by patient this server answers, each with the resource types its entries may include. */
export const searchTypes = ["Observation", "Consent", "DocumentReference", "AuditEvent", "Flag"] as const;
export type SearchType = (typeof searchTypes)[number];

/** What this server does, for `GET metadata` (read by clients before anything else, so served to anyone). */
export function capabilityStatement(base: string, now = new Date()): CapabilityStatement {
  const searchResource = (type: SearchType): CapabilityStatementRestResource => ({
    type,
    interaction: [{ code: "search-type" }],
    searchParam: [patientParam],
  });
  return {
    resourceType: "CapabilityStatement",
    status: "active",
    date: now.toISOString(),
    publisher: "CareChain",
    kind: "instance",
    implementation: {
      description:
        "CareChain gateway: a patient's chart from the chain's projections, read through the access policy and audited",
      url: base,
    },
    fhirVersion,
    format: [fhirMediaType, "json"],
    rest: [
      {
        mode: "server",
        documentation:
          "Every read but this statement needs a bearer token from Sign-In with Ethereum (POST /auth/nonce, /auth/verify).",
        security: {
          cors: true,
          description:
            "Authorization: Bearer <token> from Sign-In with Ethereum. A patient reads its own chart; others what the patient's grants, an emergency access or an alert names them for. Denials do not say whether the patient exists.",
        },
        resource: [
          {
            type: "Patient",
            interaction: [{ code: "read" }],
            operation: [
              {
                name: "everything",
                definition: "http://hl7.org/fhir/OperationDefinition/Patient-everything",
              },
            ],
          },
          ...searchTypes.map(searchResource),
        ],
      },
    ],
  };
}
