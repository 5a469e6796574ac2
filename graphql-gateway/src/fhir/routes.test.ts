/**
 * The FHIR R4 API through the real gateway (sign-in, policy, audit log) over projections built by the
 * projector: the default reads of every endpoint, who may read what, the one denial, the audit rows, and
 * R4 validity of every resource an answer holds.
 */
import type {
  AuditEvent,
  Bundle,
  BundleEntry,
  Consent,
  DocumentReference,
  Observation,
  OperationOutcome,
  Resource,
} from "@medplum/fhirtypes";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  createTestGateway,
  hex32,
  lower,
  newAccount,
  type TestGateway,
  type World,
} from "../testing/index.ts";
import { r4Errors } from "./r4-validator.ts";

let harness: TestGateway;
let world: World;
let base: string;

beforeAll(async () => {
  // Load the R4 definitions first: indexing them blocks this process for seconds, and with it the gateway
  // in it, whose idle keep-alive sockets the next fetch would then find reset.
  r4Errors({ resourceType: "Basic", code: { text: "warm-up" } });
  harness = await createTestGateway();
  world = await harness.createWorld();
  base = `${harness.gateway.url}/fhir/R4`;
});

afterAll(async () => {
  await harness?.stop();
});

type Answer<T = Resource> = { status: number; body: T; headers: Headers };

async function get<T = Resource>(
  path: string,
  token: string | null,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<Answer<T>> {
  const response = await fetch(`${base}/${path}`, {
    method,
    headers: {
      accept: "application/fhir+json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
  });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

/** Every resource in an answer (a Bundle's entries too) is valid R4. */
function expectValid(resource: Resource) {
  expect(r4Errors(resource), resource.resourceType).toEqual([]);
  if (resource.resourceType === "Bundle") {
    for (const entry of resource.entry ?? []) expect(r4Errors(entry.resource!), entry.fullUrl).toEqual([]);
  }
}

const entries = (bundle: Bundle, mode?: string): BundleEntry[] =>
  (bundle.entry ?? []).filter((entry) => !mode || entry.search?.mode === mode);
const typesOf = (bundle: Bundle, mode = "match") =>
  [...new Set(entries(bundle, mode).map((entry) => entry.resource!.resourceType))].sort();
const ofType = <T extends Resource>(bundle: Bundle, type: T["resourceType"]) =>
  entries(bundle)
    .map((entry) => entry.resource!)
    .filter((resource): resource is T => resource.resourceType === type);

const auditRows = (requestId: string) =>
  harness.db.query<{
    viewer: string;
    patient: string;
    what: string;
    rule: string;
    grant_scopes: number | null;
  }>(
    `SELECT viewer, patient, what, rule, grant_scopes FROM ${harness.db.gateway}.audit_log
      WHERE request_id = $1 ORDER BY what`,
    [requestId],
  );

let requests = 0;
const requestId = (label: string) => `fhir-${label}-${++requests}`;

describe("FHIR R4: reads", () => {
  test("default: metadata is a CapabilityStatement, to anyone", async () => {
    const { status, body, headers } = await get("metadata", null);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/fhir\+json/);
    expect(body.resourceType).toBe("CapabilityStatement");
    expectValid(body);
  });

  test("default: Patient/{id} is the patient, by its address, with no name", async () => {
    const { status, body, headers } = await get(`Patient/${world.patient.address}`, world.patient.token);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toMatch(/^application\/fhir\+json/);
    expect(headers.get("cache-control")).toBe("no-store");
    expect(body).toMatchObject({
      resourceType: "Patient",
      id: world.patient.address,
      identifier: [{ system: "urn:carechain:account", value: world.patient.address }],
    });
    expect(body).not.toHaveProperty("name");
    expectValid(body);
    // The id is the address in any case.
    const upper = await get(`Patient/${world.patient.account.address}`, world.patient.token);
    expect(upper.body.id).toBe(world.patient.address);
  });

  test("default: each search by patient answers a valid searchset of its resources", async () => {
    const token = world.patient.token;
    const patient = world.patient.address;
    const observations = await get<Bundle>(`Observation?patient=${patient}`, token);
    expect(observations.status).toBe(200);
    expectValid(observations.body);
    expect(observations.body.type).toBe("searchset");
    expect(typesOf(observations.body)).toEqual(["Observation"]);
    expect(typesOf(observations.body, "include")).toEqual(["Device"]);
    expect(
      ofType<Observation>(observations.body, "Observation").map((o) =>
        o.component?.map((c) => c.valueQuantity?.value),
      ),
    ).toEqual(world.data.readings.map((r) => [r.systolic, r.diastolic]));

    const documents = await get<Bundle>(`DocumentReference?patient=Patient/${patient}`, token);
    expect(documents.status).toBe(200);
    expectValid(documents.body);
    // Every version: the latest four and the amended original.
    const ids = ofType(documents.body, "DocumentReference").map((d) => d.id);
    const expected = [...world.data.latestRecords, world.data.amended[0]].map((r) => r.recordId.slice(2));
    expect(ids.sort()).toEqual(expected.sort());

    const consents = await get<Bundle>(`Consent?patient=${patient}`, token);
    expect(consents.status).toBe(200);
    expectValid(consents.body);
    const statuses = Object.fromEntries(
      ofType<Consent>(consents.body, "Consent").map((c) => [
        c.provision?.actor?.[0]?.reference?.reference,
        c.status,
      ]),
    );
    expect(statuses).toEqual({
      [`Practitioner/${world.grantedDoctor.address}`]: "active",
      [`Practitioner/${world.revokedDoctor.address}`]: "inactive",
      [`Practitioner/${world.expiredDoctor.address}`]: "inactive",
      [`Organization/${world.insurer.address}`]: "active",
    });

    const flags = await get<Bundle>(`Flag?patient=${patient}`, token);
    expect(flags.status).toBe(200);
    expectValid(flags.body);
    expect(
      ofType(flags.body, "Flag").map((f) => (f as { identifier: { value: string }[] }).identifier[0]!.value),
    ).toEqual(world.data.alerts.map((a) => a.eventId));

    // A doctor's read first, so that the access log has a row to show.
    await get(`Patient/${patient}`, world.grantedDoctor.token, { "x-request-id": requestId("for-log") });
    const log = await get<Bundle>(`AuditEvent?patient=${patient}`, token);
    expect(log.status).toBe(200);
    expectValid(log.body);
    const events = ofType<AuditEvent>(log.body, "AuditEvent");
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.agent[0]!.who).toEqual({ reference: `Practitioner/${world.grantedDoctor.address}` });
  });

  test("args: _count cuts a list at the newest and says so in an outcome entry", async () => {
    const { body } = await get<Bundle>(
      `Observation?patient=${world.patient.address}&_count=2`,
      world.patient.token,
    );
    expectValid(body);
    expect(ofType(body, "Observation")).toHaveLength(2);
    expect(entries(body, "outcome")).toHaveLength(1);
  });

  test("args: the operation's `$` may be percent-encoded", async () => {
    const { status, body } = await get<Bundle>(
      `Patient/${world.patient.address}/%24everything`,
      world.patient.token,
    );
    expect(status).toBe(200);
    expect(body.type).toBe("searchset");
  });
});

/** What `$everything` holds for each reader (the matches' types) and what is audited (kind:rule). */
const everythingOf: Record<string, { types: string[]; audited: string[] }> = {
  patient: {
    types: ["AuditEvent", "Consent", "DocumentReference", "Flag", "Observation", "Patient"],
    audited: [],
  },
  grantedDoctor: {
    types: ["DocumentReference", "Flag", "Observation", "Patient"],
    audited: ["alerts:grant", "profile:grant", "records:grant", "vitals:grant"],
  },
  insurer: { types: ["DocumentReference", "Patient"], audited: ["profile:grant", "records:grant"] },
  emergencyDoctor: {
    types: ["DocumentReference", "Flag", "Observation", "Patient"],
    audited: ["alerts:emergency", "profile:emergency", "records:emergency", "vitals:emergency"],
  },
  alertRecipient: {
    types: ["Flag", "Patient"],
    audited: ["alerts:alert-recipient", "profile:alert-recipient"],
  },
};

describe("FHIR R4: permissions", () => {
  test.each(Object.keys(everythingOf))(
    "default: $everything as %s holds what the policy allows, audited",
    async (name) => {
      const viewer = world[name as keyof typeof everythingOf & keyof World] as {
        token: string;
        address: string;
      };
      const id = requestId(name);
      const { status, body } = await get<Bundle>(
        `Patient/${world.patient.address}/$everything`,
        viewer.token,
        {
          "x-request-id": id,
        },
      );
      expect(status).toBe(200);
      expectValid(body);
      expect(typesOf(body)).toEqual(everythingOf[name]!.types);
      expect((await auditRows(id)).map((row) => `${row.what}:${row.rule}`)).toEqual(
        everythingOf[name]!.audited,
      );
      if (name === "alertRecipient") {
        // Only the alert that names the recipient.
        expect(ofType(body, "Flag")).toHaveLength(1);
      }
      if (name === "insurer") {
        const rows = await auditRows(id);
        expect(rows.every((row) => row.viewer === viewer.address && row.grant_scopes === 1)).toBe(true);
      }
    },
  );

  test("behavior: a granted doctor searches records and vitals, not the consents or the access log", async () => {
    const token = world.grantedDoctor.token;
    const patient = world.patient.address;
    expect((await get(`Observation?patient=${patient}`, token)).status).toBe(200);
    expect((await get(`DocumentReference?patient=${patient}`, token)).status).toBe(200);
    expect((await get(`Consent?patient=${patient}`, token)).status).toBe(403);
    expect((await get(`AuditEvent?patient=${patient}`, token)).status).toBe(403);
  });

  test("behavior: the insurer's narrow scope reads records only", async () => {
    const token = world.insurer.token;
    const patient = world.patient.address;
    const id = requestId("insurer-records");
    const documents = await get<Bundle>(`DocumentReference?patient=${patient}`, token, {
      "x-request-id": id,
    });
    expect(documents.status).toBe(200);
    expect(ofType(documents.body, "DocumentReference")).toHaveLength(5);
    expect((await auditRows(id)).map((row) => `${row.what}:${row.rule}`)).toEqual(["records:grant"]);
    for (const search of ["Observation", "Flag", "Consent", "AuditEvent"]) {
      expect((await get(`${search}?patient=${patient}`, token)).status, search).toBe(403);
    }
  });

  test("error: revoked, expired, ungranted, another patient and an unknown patient get one and the same denial", async () => {
    const unknown = lower(newAccount().address);
    const answers: Answer<OperationOutcome>[] = [];
    for (const name of ["revokedDoctor", "expiredDoctor", "ungrantedDoctor", "otherPatient"] as const) {
      const token = world[name].token;
      const id = requestId(`denied-${name}`);
      for (const path of [
        `Patient/${world.patient.address}`,
        `Patient/${world.patient.address}/$everything`,
        `Observation?patient=${world.patient.address}`,
        `DocumentReference?patient=${world.patient.address}`,
        `Patient/${unknown}`,
        `Patient/${unknown}/$everything`,
        `DocumentReference?patient=${unknown}`,
      ]) {
        answers.push(await get<OperationOutcome>(path, token, { "x-request-id": id }));
      }
      expect(await auditRows(id)).toEqual([]);
    }
    // Even the address's owner, unregistered, learns nothing more about it than others do.
    const stranger = newAccount();
    const strangerToken = await harness.signIn(stranger);
    answers.push(await get<OperationOutcome>(`Patient/${lower(stranger.address)}`, strangerToken));
    // And a signed-in stranger (no role at all) gets it for the patient.
    answers.push(await get<OperationOutcome>(`Patient/${world.patient.address}/$everything`, strangerToken));
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expectValid(answer.body);
      expect(answer.body).toEqual(answers[0]!.body);
    }
    expect(answers[0]!.body.issue[0]).toMatchObject({ severity: "error", code: "forbidden" });
  });

  test("error: unauthenticated and invalid tokens get 401 with an OperationOutcome", async () => {
    for (const token of [null, "not-a-token"]) {
      // Before any parameter is looked at: a search without a patient, an id that is no address.
      for (const path of [
        `Patient/${world.patient.address}`,
        `Observation?patient=${world.patient.address}`,
        "Observation",
        "Patient/not-an-address",
      ]) {
        const { status, body, headers } = await get<OperationOutcome>(path, token);
        expect(status).toBe(401);
        expect(headers.get("www-authenticate")).toMatch(/^Bearer/);
        expectValid(body);
        expect(body.issue[0]!.code).toBe("login");
      }
    }
  });

  test("error: a search without a patient, an unknown endpoint and a write are OperationOutcomes", async () => {
    const token = world.patient.token;
    const missing = await get<OperationOutcome>("Observation", token);
    expect([missing.status, missing.body.issue[0]!.code]).toEqual([400, "invalid"]);
    const unknown = await get<OperationOutcome>("Medication/1", token);
    expect([unknown.status, unknown.body.issue[0]!.code]).toEqual([404, "not-found"]);
    const write = await get<OperationOutcome>(`Patient/${world.patient.address}`, token, {}, "DELETE");
    expect([write.status, write.body.issue[0]!.code, write.headers.get("allow")]).toEqual([
      405,
      "not-supported",
      "GET",
    ]);
    for (const answer of [missing, unknown, write]) expectValid(answer.body);
  });

  test("error: a read that cannot be audited is refused (503), the patient's own reads go on", async () => {
    const table = `${harness.db.gateway}.audit_access`;
    await harness.db.query(`ALTER TABLE ${table} ADD CONSTRAINT fhir_audit_probe CHECK (false) NOT VALID`);
    try {
      for (const path of [
        `Patient/${world.patient.address}/$everything`,
        `Observation?patient=${world.patient.address}`,
      ]) {
        const refused = await get<OperationOutcome>(path, world.grantedDoctor.token);
        expect(refused.status).toBe(503);
        expect(refused.body.resourceType).toBe("OperationOutcome");
        expect(refused.body.issue[0]!.code).toBe("transient");
      }
      const own = await get<Bundle>(`Patient/${world.patient.address}/$everything`, world.patient.token);
      expect(own.status).toBe(200);
    } finally {
      await harness.db.query(`ALTER TABLE ${table} DROP CONSTRAINT fhir_audit_probe`);
    }
  });
});

describe("FHIR R4: a whole chart", () => {
  test("behavior: a demo-like patient's $everything round-trips: valid, every reference resolves, nothing lost", async () => {
    const f = harness.fixtures;
    const [patientAccount, doctorAccount, hospitalAccount, insurerAccount, deviceAccount] = Array.from(
      { length: 5 },
      newAccount,
    );
    const [patient, doctor, hospital, insurer, device] = [
      patientAccount!,
      doctorAccount!,
      hospitalAccount!,
      insurerAccount!,
      deviceAccount!,
    ].map((account) => lower(account.address)) as [
      `0x${string}`,
      `0x${string}`,
      `0x${string}`,
      `0x${string}`,
      `0x${string}`,
    ];
    // As the demo: a registrar hospital verifies the doctor; the patient grants the doctor everything and
    // an insurer records; has a blood-pressure cuff whose readings raise an alert; records, one amended.
    await f.organization(hospital, { kind: 1, registrar: true, block: 300 });
    await f.organization(insurer, { kind: 2, block: 301 });
    await f.patient(patient, { block: 302 });
    await f.doctor(doctor, { block: 303, verifiedBy: hospital });
    await f.grant({ patient, grantee: doctor, scopes: 7, block: 305 });
    await f.grant({
      patient,
      grantee: insurer,
      scopes: 1,
      block: 306,
      expiresAt: new Date(Date.now() + 90 * 86_400_000),
    });
    await f.apply(f.event("DeviceAuthorized", { patient, device }, 307));
    const consult = await f.record({ patient, author: doctor, type: 1, block: 310, contentHash: hex32() });
    const amended = await f.amend(consult, { block: 311 });
    const upload = await f.record({ patient, author: patient, type: 8, block: 312 });
    await f.vitalsRange(patient, doctor, 313);
    await f.alertRecipients(patient, [doctor, hospital], 314);
    const now = Math.floor(Date.now() / 1000) * 1000;
    const readings = [
      [121, 79],
      [168, 102],
    ] as const;
    for (const [index, [systolic, diastolic]] of readings.entries()) {
      await f.reading({
        patient,
        device,
        measuredAt: new Date(now - (2 - index) * 3600_000),
        systolic,
        diastolic,
        block: 320 + index,
      });
    }
    await f.alert({
      patient,
      device,
      measuredAt: new Date(now - 3600_000),
      systolic: 168,
      diastolic: 102,
      recipients: [doctor, hospital],
      block: 322,
    });
    const token = await harness.signIn(patientAccount!);
    // A read by the doctor, so that the access log is not empty.
    expect((await get(`Patient/${patient}`, await harness.signIn(doctorAccount!))).status).toBe(200);

    const { status, body } = await get<Bundle>(`Patient/${patient}/$everything`, token);
    expect(status).toBe(200);
    expectValid(body);
    // Round trip: the JSON read back is the same bundle, and every reference is to an entry of it.
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
    const urls = new Set(entries(body).map((entry) => entry.fullUrl));
    const references: string[] = [];
    JSON.stringify(body, (key, value) => {
      if (key === "reference" && typeof value === "string") references.push(value);
      return value;
    });
    expect(references.length).toBeGreaterThan(10);
    for (const reference of new Set(references)) expect(urls, reference).toContain(`${base}/${reference}`);
    // Nothing lost: every kind of the demo's data is there.
    expect(typesOf(body)).toEqual([
      "AuditEvent",
      "Consent",
      "DocumentReference",
      "Flag",
      "Observation",
      "Patient",
    ]);
    expect(typesOf(body, "include")).toEqual(["Device", "Organization", "Practitioner"]);
    expect(
      ofType(body, "DocumentReference")
        .map((d) => d.id)
        .sort(),
    ).toEqual([consult, amended, upload].map((r) => r.recordId.slice(2)).sort());
    const amendment = ofType<DocumentReference>(body, "DocumentReference").find(
      (d) => d.id === amended.recordId.slice(2),
    )!;
    expect(amendment.relatesTo).toEqual([
      { code: "replaces", target: { reference: `DocumentReference/${consult.recordId.slice(2)}` } },
    ]);
    expect(amendment.content[0]!.attachment.url).toMatch(/\/documents\/0x[0-9a-f]{64}$/);
    expect(ofType(body, "Observation")).toHaveLength(2);
    expect(ofType(body, "Consent")).toHaveLength(2);
    expect(ofType(body, "Flag")).toHaveLength(1);
    expect(
      entries(body, "include")
        .map((e) => e.resource!.id)
        .sort(),
    ).toEqual([device, doctor, hospital, insurer].sort());
  });
});
