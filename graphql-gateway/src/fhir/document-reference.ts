import type { DocumentReference } from "@medplum/fhirtypes";
import type { Role } from "../auth/viewer.ts";
import type { RecordRow } from "../loaders/rows.ts";
import { recordTypeName } from "../subgraphs/records/resolvers.ts";
import { fhirId, hexToBase64, loinc, system } from "./codes.ts";
import { actorReference, patientReference } from "./identity.ts";

/** The LOINC document type closest to each record type on chain (CareChainTypes.RECORD_*). */
const documentTypes: Record<number, { code: string; display: string }> = {
  1: { code: "11488-4", display: "Consult note" },
  2: { code: "11502-2", display: "Laboratory report" },
  3: { code: "18748-4", display: "Diagnostic imaging study" },
  4: { code: "57833-6", display: "Prescription for medication" },
  5: { code: "18842-5", display: "Discharge summary" },
  6: { code: "11369-6", display: "History of Immunization Narrative" },
  7: { code: "48765-2", display: "Allergies and adverse reactions Document" },
  8: { code: "51855-5", display: "Patient Note" },
};

/**
 * A record version as a DocumentReference, id = the record id without 0x. The attachment is the encrypted
 * document: `url` its download at the gateway (`documentUrl`), `hash` the SHA-256 written on chain (base64;
 * R4 names SHA-1 for this field, but the chain holds SHA-256, and a reader checks the bytes against it). An
 * amendment `replaces` the version before it; a superseded version is `superseded`.
 */
export function documentReferenceResource(
  record: RecordRow,
  authorRole: Role,
  documentUrl: (contentHash: string) => string,
): DocumentReference {
  const type = documentTypes[record.recordType];
  return {
    resourceType: "DocumentReference",
    id: fhirId(record.recordId),
    meta: { lastUpdated: record.blockTime.toISOString() },
    masterIdentifier: { system: system.record, value: record.recordId },
    identifier: [{ system: system.contentHash, value: record.contentHash }],
    status: record.supersededBy ? "superseded" : "current",
    type: {
      coding: [
        ...(type ? [{ system: loinc, ...type }] : []),
        {
          system: system.recordType,
          code: String(record.recordType),
          display: recordTypeName(record.recordType),
        },
      ],
    },
    subject: patientReference(record.patient),
    date: record.blockTime.toISOString(),
    author: [actorReference(record.author, authorRole)],
    ...(record.previousRecordId
      ? {
          relatesTo: [
            {
              code: "replaces" as const,
              target: { reference: `DocumentReference/${fhirId(record.previousRecordId)}` },
            },
          ],
        }
      : {}),
    content: [
      {
        attachment: {
          contentType: "application/octet-stream",
          url: documentUrl(record.contentHash),
          hash: hexToBase64(record.contentHash),
          title: `CareChain record version ${record.version} (encrypted)`,
        },
      },
    ],
  };
}
