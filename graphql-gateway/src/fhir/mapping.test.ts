/**
 * The mappings, one resource kind at a time, on rows as the projections hold them: what each says (codes,
 * units, statuses, references) and that each is valid R4.
 */
import type { Bundle, Consent, DocumentReference, Observation, Resource } from "@medplum/fhirtypes";
import { describe, expect, test } from "vitest";
import type { DoctorRow, GrantRow, OrganizationRow, ReadingRow, RecordRow } from "../loaders/rows.ts";
import { auditEventResource } from "./audit-event.ts";
import { searchsetBundle } from "./bundle.ts";
import { capabilityStatement } from "./capability-statement.ts";
import { consentResource } from "./consent.ts";
import { documentReferenceResource } from "./document-reference.ts";
import { flagResource } from "./flag.ts";
import { organizationResource, patientResource, practitionerResource } from "./identity.ts";
import { deviceResource, observationResource } from "./observation.ts";
import { operationOutcome } from "./outcome.ts";
import { r4Errors } from "./r4-validator.ts";

const now = new Date("2026-06-01T12:00:00.000Z");
const hour = 3_600_000;
const at = (ms: number) => new Date(now.getTime() + ms);
const address = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;
const id32 = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const patient = address(1);
const doctor = address(2);
const hospital = address(3);
const device = address(4);
const eventId = (n: number) => `31337:${id32(n)}:${n}`;

const valid = (resource: Resource) => expect(r4Errors(resource), resource.resourceType).toEqual([]);

const doctorRow = (verified: boolean): DoctorRow => ({
  address: doctor,
  profileHash: id32(9),
  encryptionKey: id32(10),
  licenseHash: id32(11),
  verified,
  verifiedBy: hospital,
  verifiedAt: at(-48 * hour),
  registeredBlock: 2,
  registeredAt: at(-72 * hour),
  updatedAt: at(-48 * hour),
});

const reading: ReadingRow = {
  eventId: eventId(7),
  patient,
  device,
  measuredAt: at(-hour),
  systolic: 142,
  diastolic: 91,
  blockNumber: 200,
  blockTime: at(-hour + 12_000),
};

const record = (n: number, previous: number | null, supersededBy: number | null): RecordRow => ({
  recordId: id32(n),
  patient,
  author: doctor,
  submitter: doctor,
  recordType: 2,
  contentHash: `0x${"ab".repeat(32)}`,
  storagePointer: "0x00",
  previousRecordId: previous === null ? null : id32(previous),
  rootRecordId: id32(previous ?? n),
  version: previous === null ? 1 : 2,
  supersededBy: supersededBy === null ? null : id32(supersededBy),
  blockNumber: 100 + n,
  blockTime: at(-10 * hour),
  logIndex: 0,
});

const grant = (terms: Partial<GrantRow>): GrantRow => ({
  patient,
  grantee: doctor,
  scopes: 7,
  expiresAt: null,
  grantedAt: at(-24 * hour),
  updatedAt: at(-24 * hour),
  revokedAt: null,
  ...terms,
});

describe("FHIR mapping", () => {
  test("default: Patient, Practitioner and Organization are known by their address, with no name", () => {
    const resources = [
      patientResource({
        address: patient,
        profileHash: id32(5),
        encryptionKey: id32(6),
        registeredBlock: 1,
        registeredAt: at(-72 * hour),
        updatedAt: at(-72 * hour),
      }),
      practitionerResource(doctorRow(true)),
      practitionerResource(doctorRow(false)),
      ...[1, 2, 3, 4, 5, 9].map((kind) =>
        organizationResource({
          address: hospital,
          kind,
          profileHash: id32(7),
          encryptionKey: id32(8),
          isRegistrar: kind === 1,
          registeredBlock: 3,
          registeredAt: at(-72 * hour),
          updatedAt: at(-72 * hour),
        } satisfies OrganizationRow),
      ),
    ];
    for (const resource of resources) {
      valid(resource);
      expect(resource).not.toHaveProperty("name");
      expect((resource as { identifier: unknown }).identifier).toEqual([
        { use: "official", system: "urn:carechain:account", value: resource.id },
      ]);
    }
    const [, verified, unverified, hospitalOrg, insurer] = resources as [
      unknown,
      { active: boolean; qualification?: { issuer: unknown }[] },
      { active: boolean; qualification?: unknown },
      { type: { coding: { code: string }[] }[] },
      { type: { coding: { code: string }[] }[] },
    ];
    expect(verified.active).toBe(true);
    expect(verified.qualification?.[0]?.issuer).toEqual({ reference: `Organization/${hospital}` });
    expect(unverified).toMatchObject({ active: false });
    expect(unverified.qualification).toBeUndefined();
    expect(hospitalOrg.type[0]!.coding.map((c) => c.code)).toEqual(["prov", "HOSPITAL"]);
    expect(insurer.type[0]!.coding.map((c) => c.code)).toEqual(["ins", "INSURER"]);
  });

  test("default: a reading is a blood-pressure panel with systolic and diastolic components in mm[Hg]", () => {
    const range = {
      patient,
      setBy: doctor,
      systolicMin: 90,
      systolicMax: 140,
      diastolicMin: 60,
      diastolicMax: 90,
      updatedAt: at(-2 * hour),
    };
    for (const observation of [observationResource(reading, range), observationResource(reading, null)]) {
      valid(observation);
      expect(observation.code.coding).toEqual([
        expect.objectContaining({ system: "http://loinc.org", code: "85354-9" }),
      ]);
      expect(observation.category?.[0]?.coding?.[0]?.code).toBe("vital-signs");
      expect(observation.subject).toEqual({ reference: `Patient/${patient}` });
      expect(observation.device).toEqual({ reference: `Device/${device}` });
      expect(observation.effectiveDateTime).toBe(reading.measuredAt.toISOString());
      expect(observation.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity])).toEqual([
        ["8480-6", { value: 142, unit: "mmHg", system: "http://unitsofmeasure.org", code: "mm[Hg]" }],
        ["8462-4", { value: 91, unit: "mmHg", system: "http://unitsofmeasure.org", code: "mm[Hg]" }],
      ]);
    }
    const ranged = observationResource(reading, range) as Observation;
    expect(ranged.component?.[0]?.referenceRange?.[0]).toMatchObject({
      low: { value: 90 },
      high: { value: 140 },
    });
    expect(observationResource(reading, null).component?.[0]?.referenceRange).toBeUndefined();
    expect(observationResource(reading, null).id).toMatch(/^[0-9a-f]{64}$/);
  });

  test("args: a device is active while authorized, inactive once revoked, unknown when not projected", () => {
    const row = { device, patient, authorizedAt: at(-hour), revokedAt: null };
    const devices = [
      deviceResource(device, patient, row),
      deviceResource(device, patient, { ...row, revokedAt: at(-1000) }),
      deviceResource(device, patient, undefined),
    ];
    for (const resource of devices) valid(resource);
    expect(devices.map((d) => d.status)).toEqual(["active", "inactive", "unknown"]);
    expect(devices[0]!.patient).toEqual({ reference: `Patient/${patient}` });
  });

  test("args: a grant is a Consent: actor, scopes as actions, period to expiry, inactive once revoked or expired", () => {
    const cases: [string, GrantRow, string, string | undefined][] = [
      ["no expiry", grant({}), "active", undefined],
      ["expires later", grant({ expiresAt: at(hour) }), "active", at(hour).toISOString()],
      ["expired", grant({ expiresAt: at(-hour) }), "inactive", at(-hour).toISOString()],
      [
        "revoked",
        grant({ revokedAt: at(-2 * hour), expiresAt: at(hour) }),
        "inactive",
        at(-2 * hour).toISOString(),
      ],
    ];
    for (const [edge, row, status, end] of cases) {
      const consent = consentResource(row, "doctor", now) as Consent;
      expect(r4Errors(consent), edge).toEqual([]);
      expect(consent.status, edge).toBe(status);
      expect(consent.provision?.period, edge).toEqual({
        start: row.grantedAt.toISOString(),
        ...(end ? { end } : {}),
      });
    }
    const consent = consentResource(grant({ scopes: 5 }), "doctor", now);
    expect(consent.patient).toEqual({ reference: `Patient/${patient}` });
    expect(consent.provision?.actor?.[0]?.reference).toEqual({ reference: `Practitioner/${doctor}` });
    expect(consent.provision?.action?.map((a) => a.coding?.map((c) => c.code))).toEqual([
      ["access", "READ_RECORDS"],
      ["access", "READ_VITALS"],
    ]);
    // An insurer is an Organization; an address the projections do not know, an identifier.
    expect(
      consentResource(grant({ scopes: 1 }), "organization", now).provision?.actor?.[0]?.reference,
    ).toEqual({
      reference: `Organization/${doctor}`,
    });
    const unknown = consentResource(grant({ scopes: 2 }), "none", now);
    valid(unknown);
    expect(unknown.provision?.actor?.[0]?.reference).toEqual({
      identifier: { system: "urn:carechain:account", value: doctor },
    });
    expect(unknown.provision?.action?.[0]?.coding?.map((c) => c.code)).toEqual(["correct", "WRITE_RECORDS"]);
  });

  test("args: a record is a DocumentReference with the document's url and hash; an amendment replaces its original", () => {
    const url = (hash: string) => `https://gateway.test/documents/${hash}`;
    const original = documentReferenceResource(record(1, null, 2), "doctor", url) as DocumentReference;
    const amendment = documentReferenceResource(record(2, 1, null), "doctor", url) as DocumentReference;
    valid(original);
    valid(amendment);
    expect(original.status).toBe("superseded");
    expect(original.relatesTo).toBeUndefined();
    expect(amendment.status).toBe("current");
    expect(amendment.id).toBe(`${"0".repeat(63)}2`);
    expect(amendment.relatesTo).toEqual([
      { code: "replaces", target: { reference: `DocumentReference/${original.id}` } },
    ]);
    const attachment = amendment.content[0]!.attachment;
    expect(attachment.url).toBe(url(`0x${"ab".repeat(32)}`));
    expect(Buffer.from(attachment.hash!, "base64").toString("hex")).toBe("ab".repeat(32));
    expect(amendment.type?.coding?.map((c) => c.code)).toEqual(["11502-2", "2"]);
    expect(amendment.author).toEqual([{ reference: `Practitioner/${doctor}` }]);
    expect(
      documentReferenceResource({ ...record(3, null, null), author: patient }, "patient", url).author,
    ).toEqual([{ reference: `Patient/${patient}` }]);
  });

  test("default: an alert is an active clinical Flag on the patient by the device", () => {
    const flag = flagResource({ ...reading, recipients: [doctor] });
    valid(flag);
    expect(flag).toMatchObject({
      status: "active",
      subject: { reference: `Patient/${patient}` },
      author: { reference: `Device/${device}` },
      period: { start: reading.measuredAt.toISOString() },
    });
  });

  test("args: an access-log row is an AuditEvent: the reader, the rule and scopes, the patient, the request", () => {
    for (const [rule, scopes] of [
      ["grant", 5],
      ["emergency", null],
      ["alert-recipient", null],
      ["party", null],
    ] as const) {
      const event = auditEventResource(
        {
          id: "42",
          viewer: doctor,
          patient,
          what: "records",
          rule,
          grantScopes: scopes,
          accessExpiresAt: null,
          channel: "query",
          requestId: "req-1",
          readAt: at(-hour),
        },
        "doctor",
      );
      valid(event);
      expect(event.action).toBe("R");
      expect(event.agent[0]!.who).toEqual({ reference: `Practitioner/${doctor}` });
      expect(event.entity?.[0]?.what).toEqual({ reference: `Patient/${patient}` });
      if (rule === "grant")
        expect(event.agent[0]!.policy).toEqual([
          "urn:carechain:access-rule:grant",
          "urn:carechain:scope:READ_RECORDS",
          "urn:carechain:scope:READ_VITALS",
        ]);
      if (rule === "emergency") expect(event.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe("ETREAT");
    }
  });

  test("default: a searchset Bundle, the CapabilityStatement and an OperationOutcome are valid R4", () => {
    const base = "https://gateway.test/fhir/R4";
    const practitioner = practitionerResource(doctorRow(true));
    const bundle = searchsetBundle(base, `${base}/Observation?patient=${patient}`, {
      matches: [observationResource(reading, null)],
      // Included twice (two readings by the same device, say): listed once.
      included: [practitioner, practitioner],
      truncated: ["1 blood-pressure readings"],
    }) as Bundle;
    valid(bundle);
    expect(bundle.type).toBe("searchset");
    expect(bundle.total).toBe(1);
    expect(bundle.entry?.map((e) => [e.resource?.resourceType, e.search?.mode])).toEqual([
      ["Observation", "match"],
      ["Practitioner", "include"],
      ["OperationOutcome", "outcome"],
    ]);
    expect(bundle.entry?.[1]?.fullUrl).toBe(`${base}/Practitioner/${doctor}`);
    valid(capabilityStatement(base));
    valid(operationOutcome("error", "forbidden", "No."));
  });
});
