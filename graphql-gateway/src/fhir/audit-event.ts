import type { AuditEvent, Coding } from "@medplum/fhirtypes";
import type { AccessLogEntry } from "../audit/access-log.ts";
import type { Role } from "../auth/viewer.ts";
import { scopeNames } from "../subgraphs/shared.ts";
import { system } from "./codes.ts";
import { actorReference, patientReference } from "./identity.ts";

const restfulOperation: Coding = {
  system: "http://terminology.hl7.org/CodeSystem/audit-event-type",
  code: "rest",
  display: "RESTful Operation",
};

/** Break-glass reads are for emergency treatment, the others for treatment (HL7 v3 ActReason). */
const purposes: Record<string, Coding> = {
  emergency: {
    system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    code: "ETREAT",
    display: "Emergency Treatment",
  },
  grant: {
    system: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
    code: "TREAT",
    display: "treatment",
  },
};

/**
 * An access-log row as an AuditEvent: a successful read (`R`) by the viewer (the requesting agent, with the
 * rule that allowed it and the grant's scopes as its policy) of the patient's data of one kind (the subtype),
 * observed by the gateway, under the request's id.
 */
export function auditEventResource(
  row: Omit<AccessLogEntry, "grantGrantedAt">,
  viewerRole: Role,
): AuditEvent {
  const purpose = purposes[row.rule];
  return {
    resourceType: "AuditEvent",
    id: `audit-${row.id}`,
    type: restfulOperation,
    subtype: [
      { system: "http://hl7.org/fhir/restful-interaction", code: "read", display: "read" },
      { system: system.readKind, code: row.what },
    ],
    action: "R",
    recorded: row.readAt.toISOString(),
    outcome: "0",
    ...(purpose ? { purposeOfEvent: [{ coding: [purpose] }] } : {}),
    agent: [
      {
        who: actorReference(row.viewer, viewerRole),
        requestor: true,
        policy: [
          `${system.accessRule}:${row.rule}`,
          ...(row.grantScopes === null
            ? []
            : scopeNames(row.grantScopes).map((scope) => `${system.scope}:${scope}`)),
        ],
      },
    ],
    source: {
      observer: { display: "CareChain gateway" },
      type: [
        {
          system: "http://terminology.hl7.org/CodeSystem/security-source-type",
          code: "4",
          display: "Application Server",
        },
      ],
    },
    entity: [
      {
        what: patientReference(row.patient),
        type: {
          system: "http://terminology.hl7.org/CodeSystem/audit-entity-type",
          code: "1",
          display: "Person",
        },
        role: { system: "http://terminology.hl7.org/CodeSystem/object-role", code: "1", display: "Patient" },
      },
      {
        what: { identifier: { system: system.request, value: row.requestId } },
        type: {
          system: "http://terminology.hl7.org/CodeSystem/audit-entity-type",
          code: "2",
          display: "System Object",
        },
        description: `${row.channel} request`,
      },
    ],
  };
}
