/**
 * The permission matrix: every operation against every kind of viewer, through the real gateway and
 * subgraphs, asserting the exact data or FORBIDDEN, and no leak through nested fields, errors or paging.
 */
import type { GraphQLFormattedError } from "graphql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestGateway, hex32, newAccount, type TestGateway, type World } from "../testing/index.ts";

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway();
  world = await harness.createWorld();
});

afterAll(async () => {
  await harness?.stop();
});

type ViewerName = Exclude<keyof World, "data">;
const viewers: ViewerName[] = [
  "patient",
  "otherPatient",
  "grantedDoctor",
  "ungrantedDoctor",
  "revokedDoctor",
  "expiredDoctor",
  "insurer",
  "emergencyDoctor",
  "alertRecipient",
  "anonymous",
];
const tokenOf = (name: ViewerName) => world[name].token;

const codes = (errors: readonly GraphQLFormattedError[] | undefined) =>
  (errors ?? []).map((error) => `${error.path?.join(".") ?? ""}:${error.extensions?.code}`).sort();

/** What each viewer may read of the patient's data: the policy table, as the gateway must enforce it. */
const allowed: Record<
  ViewerName,
  { profile: boolean; records: boolean; vitals: boolean; alerts: 0 | 1 | 2; own: boolean }
> = {
  patient: { profile: true, records: true, vitals: true, alerts: 2, own: true },
  otherPatient: { profile: false, records: false, vitals: false, alerts: 0, own: false },
  grantedDoctor: { profile: true, records: true, vitals: true, alerts: 2, own: false },
  ungrantedDoctor: { profile: false, records: false, vitals: false, alerts: 0, own: false },
  revokedDoctor: { profile: false, records: false, vitals: false, alerts: 0, own: false },
  expiredDoctor: { profile: false, records: false, vitals: false, alerts: 0, own: false },
  insurer: { profile: true, records: true, vitals: false, alerts: 0, own: false },
  emergencyDoctor: { profile: true, records: true, vitals: true, alerts: 2, own: false },
  alertRecipient: { profile: true, records: false, vitals: false, alerts: 1, own: false },
  anonymous: { profile: false, records: false, vitals: false, alerts: 0, own: false },
};

const everything = /* GraphQL */ `
  query Everything($address: Address!) {
    patient(address: $address) {
      address
      profileHash
      records(first: 10) { edges { node { id version versions { id version } } } }
      vitals(first: 10) { id systolic }
      latestVitals { id }
      vitalsRange { systolicMax }
      alertRecipients
      devices { address revokedAt }
      alerts { id recipients }
      grants { grantee scopes }
      emergencyAccesses { doctor { address } }
      grantHistory { edges { node { action grantee } } }
      accessLog { edges { node { viewer } } }
    }
  }
`;

describe("permission matrix", () => {
  test.each(viewers)("default: %s reads exactly what the policy allows", async (name) => {
    const rule = allowed[name];
    const result = await harness.query<{ patient: Record<string, unknown> | null }>(everything, {
      token: tokenOf(name),
      variables: { address: world.patient.address },
    });
    expect(result.status).toBe(200);
    if (!rule.profile) {
      expect(result.data?.patient).toBeNull();
      expect(codes(result.errors)).toEqual(["patient:FORBIDDEN"]);
      return;
    }
    const patient = result.data!.patient!;
    expect(patient.address).toBe(world.patient.address);
    const forbidden: string[] = [];
    if (rule.records) {
      const ids = (patient.records as { edges: { node: { id: string } }[] }).edges.map(
        (edge) => edge.node.id,
      );
      expect(ids).toEqual(world.data.latestRecords.map((record) => record.recordId));
    } else {
      expect(patient.records).toBeNull();
      forbidden.push("patient.records:FORBIDDEN");
    }
    if (rule.vitals) {
      expect((patient.vitals as { id: string }[]).map((reading) => reading.id)).toEqual(
        world.data.readings.map((reading) => reading.eventId),
      );
      expect(patient.latestVitals).toEqual({ id: world.data.readings[0]!.eventId });
      expect(patient.vitalsRange).toEqual({ systolicMax: 140 });
      expect(patient.alertRecipients).toEqual([world.alertRecipient.address, world.grantedDoctor.address]);
      expect(patient.devices).toEqual([{ address: world.data.device, revokedAt: null }]);
    } else {
      for (const field of ["vitals", "latestVitals", "vitalsRange", "alertRecipients", "devices"]) {
        expect(patient[field]).toBeNull();
        forbidden.push(`patient.${field}:FORBIDDEN`);
      }
    }
    if (rule.alerts > 0) {
      const alerts = (patient.alerts as { id: string }[]).map((alert) => alert.id);
      expect(alerts).toEqual(world.data.alerts.slice(0, rule.alerts).map((alert) => alert.eventId));
    } else {
      expect(patient.alerts).toBeNull();
      forbidden.push("patient.alerts:FORBIDDEN");
    }
    if (rule.own) {
      expect((patient.grants as { grantee: string }[]).map((grant) => grant.grantee)).toEqual([
        world.grantedDoctor.address,
        world.insurer.address,
      ]);
      expect(patient.emergencyAccesses).toEqual([{ doctor: { address: world.emergencyDoctor.address } }]);
      expect((patient.grantHistory as { edges: unknown[] }).edges).toHaveLength(6);
      expect(patient.accessLog).toMatchObject({ edges: expect.any(Array) });
    } else {
      for (const field of ["grants", "emergencyAccesses", "grantHistory", "accessLog"]) {
        expect(patient[field]).toBeNull();
        forbidden.push(`patient.${field}:FORBIDDEN`);
      }
    }
    expect(codes(result.errors)).toEqual(forbidden.sort());
  });

  test("behavior: record versions and record paging for a reader", async () => {
    const first = await harness.query<{
      patient: {
        records: {
          edges: { cursor: string; node: { id: string; version: number; versions: { id: string }[] } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      };
    }>(
      `query($a: Address!) { patient(address: $a) { records(first: 2) {
         edges { cursor node { id version versions { id } } } pageInfo { hasNextPage endCursor } } } }`,
      { token: world.grantedDoctor.token, variables: { a: world.patient.address } },
    );
    const page = first.data!.patient.records;
    const [newest, amended] = world.data.latestRecords;
    expect(page.edges.map((edge) => edge.node.id)).toEqual([newest!.recordId, amended!.recordId]);
    expect(page.edges[1]!.node.version).toBe(2);
    expect(page.edges[1]!.node.versions.map((version) => version.id)).toEqual(
      world.data.amended.map((record) => record.recordId),
    );
    expect(page.pageInfo.hasNextPage).toBe(true);
    const second = await harness.query<{
      patient: { records: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean } } };
    }>(
      `query($a: Address!, $after: String) { patient(address: $a) { records(first: 2, after: $after) {
         edges { node { id } } pageInfo { hasNextPage } } } }`,
      {
        token: world.grantedDoctor.token,
        variables: { a: world.patient.address, after: page.pageInfo.endCursor },
      },
    );
    expect(second.data!.patient.records.edges.map((edge) => edge.node.id)).toEqual(
      world.data.latestRecords.slice(2).map((record) => record.recordId),
    );
    expect(second.data!.patient.records.pageInfo.hasNextPage).toBe(false);
  });

  test("behavior: filters by type and time, and every version on request", async () => {
    const result = await harness.query<{ patient: Record<string, { edges: { node: { id: string } }[] }> }>(
      `query($a: Address!, $from: DateTime!) { patient(address: $a) {
         labs: records(type: LAB_RESULT) { edges { node { id } } }
         recent: records(from: $from) { edges { node { id } } }
         all: records(includeSuperseded: true) { edges { node { id } } } } }`,
      {
        token: world.patient.token,
        variables: { a: world.patient.address, from: harness.fixtures.blockTime(125).toISOString() },
      },
    );
    expect(result.errors).toBeUndefined();
    const ids = (key: string) => result.data!.patient[key]!.edges.map((edge) => edge.node.id);
    const [r4, r1v2, , r2] = world.data.latestRecords;
    expect(ids("labs")).toEqual([r2!.recordId]);
    expect(ids("recent")).toEqual([r4!.recordId, r1v2!.recordId]);
    expect(ids("all")).toHaveLength(5);
  });

  test("behavior: a doctor lists its own patients, each field still checked", async () => {
    const query = `query($d: Address!) { doctor(address: $d) { address patients { address
       records { edges { node { id } } } latestVitals { id } } } }`;
    const granted = await harness.query<{ doctor: { patients: { address: string }[] } }>(query, {
      token: world.grantedDoctor.token,
      variables: { d: world.grantedDoctor.address },
    });
    expect(granted.errors).toBeUndefined();
    expect(granted.data!.doctor.patients.map((patient) => patient.address)).toEqual([world.patient.address]);

    for (const name of ["revokedDoctor", "expiredDoctor", "ungrantedDoctor"] as const) {
      const own = await harness.query<{ doctor: { patients: unknown[] } }>(query, {
        token: world[name].token,
        variables: { d: world[name].address },
      });
      expect(own.errors).toBeUndefined();
      expect(own.data!.doctor.patients).toEqual([]);
    }
    const emergency = await harness.query<{ doctor: { patients: { address: string }[] } }>(query, {
      token: world.emergencyDoctor.token,
      variables: { d: world.emergencyDoctor.address },
    });
    expect(emergency.data!.doctor.patients.map((patient) => patient.address)).toEqual([
      world.patient.address,
    ]);
  });

  test("error: no leak through another doctor's patients, nested alerts or the organization's list", async () => {
    const other = await harness.query<{ doctor: { address: string; patients: null } }>(
      `query($d: Address!) { doctor(address: $d) { address patients { address records { edges { node { id } } } } } }`,
      { token: world.ungrantedDoctor.token, variables: { d: world.grantedDoctor.address } },
    );
    expect(other.data!.doctor).toEqual({ address: world.grantedDoctor.address, patients: null });
    expect(codes(other.errors)).toEqual(["doctor.patients:FORBIDDEN"]);

    const viaAlert = await harness.query<{ patient: { alerts: unknown[] } }>(
      `query($a: Address!) { patient(address: $a) { alerts { id patient { address records { edges { node { id } } } } } } }`,
      { token: world.alertRecipient.token, variables: { a: world.patient.address } },
    );
    expect(viaAlert.data!.patient.alerts).toEqual([
      { id: world.data.alerts[0].eventId, patient: { address: world.patient.address, records: null } },
    ]);
    expect(codes(viaAlert.errors)).toEqual(["patient.alerts.0.patient.records:FORBIDDEN"]);

    const insurer = await harness.query<{
      organization: { kind: string; patients: { address: string; records: unknown; latestVitals: null }[] };
    }>(
      `query($o: Address!) { organization(address: $o) { kind patients { address
         records { edges { node { id } } } latestVitals { id } } } }`,
      { token: world.insurer.token, variables: { o: world.insurer.address } },
    );
    expect(insurer.data!.organization.kind).toBe("INSURER");
    expect(insurer.data!.organization.patients[0]!.records).toMatchObject({ edges: expect.any(Array) });
    expect(insurer.data!.organization.patients[0]!.latestVitals).toBeNull();
    expect(codes(insurer.errors)).toEqual(["organization.patients.0.latestVitals:FORBIDDEN"]);

    const me = await harness.query<{ me: { doctor: { patients: null } } }>(
      `{ me { role doctor { patients { address } } } }`,
      { token: world.alertRecipient.token },
    );
    expect(me.data!.me).toEqual({ role: "DOCTOR", doctor: { patients: [] } });
  });

  test("error: the same FORBIDDEN for an unknown patient and a patient without access", async () => {
    const query = `query($a: Address!) { patient(address: $a) { address records { edges { node { id } } } } }`;
    const unknown = await harness.query(query, {
      token: world.ungrantedDoctor.token,
      variables: { a: newAccount().address },
    });
    const existing = await harness.query(query, {
      token: world.ungrantedDoctor.token,
      variables: { a: world.patient.address },
    });
    expect(unknown.data).toEqual({ patient: null });
    expect(existing.data).toEqual({ patient: null });
    expect(unknown.errors).toEqual(existing.errors);
    expect(existing.errors).toEqual([
      {
        message: "Not allowed to read this patient's profile.",
        path: ["patient"],
        extensions: { code: "FORBIDDEN" },
      },
    ]);
  });

  test("error: cursors of another patient's records, or forged ones, are refused", async () => {
    const query = `query($a: Address!, $after: String) { patient(address: $a) {
      records(first: 1, after: $after) { edges { node { id } } pageInfo { endCursor } } } }`;
    const others = await harness.query<{ patient: { records: { pageInfo: { endCursor: string } } } }>(query, {
      token: world.otherPatient.token,
      variables: { a: world.otherPatient.address },
    });
    const foreign = others.data!.patient.records.pageInfo.endCursor;
    for (const after of [
      foreign,
      "bm90IGEgY3Vyc29y",
      Buffer.from(JSON.stringify([hex32(), 1, 1])).toString("base64url"),
    ]) {
      const result = await harness.query<{ patient: { records: null } }>(query, {
        token: world.grantedDoctor.token,
        variables: { a: world.patient.address, after },
      });
      expect(result.data!.patient.records).toBeNull();
      expect(codes(result.errors)).toEqual(["patient.records:BAD_USER_INPUT"]);
    }
  });

  test("behavior: anonymous viewers see the public doctor directory and who they are", async () => {
    const result = await harness.query<{
      me: unknown;
      doctors: { edges: { node: { address: string; verified: boolean } }[] };
    }>(`{ me { role address } doctors(first: 100) { edges { node { address verified registeredAt } } } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data!.me).toEqual({ role: "ANONYMOUS", address: null });
    const listed = result.data!.doctors.edges.map((edge) => edge.node.address);
    for (const name of [
      "grantedDoctor",
      "ungrantedDoctor",
      "revokedDoctor",
      "expiredDoctor",
      "emergencyDoctor",
    ] as const) {
      expect(listed).toContain(world[name].address);
    }
    const verified = await harness.query<{ doctors: { edges: { node: { address: string } }[] } }>(
      `{ doctors(first: 100, verified: false) { edges { node { address } } } }`,
    );
    expect(verified.data!.doctors.edges.map((edge) => edge.node.address)).toEqual([
      world.alertRecipient.address,
    ]);
  });

  test("behavior: roles come from the projections", async () => {
    const roles = await Promise.all(
      (["patient", "grantedDoctor", "insurer"] as const).map(async (name) => {
        const result = await harness.query<{ me: unknown }>(`{ me { address role organizationKind } }`, {
          token: world[name].token,
        });
        return result.data!.me;
      }),
    );
    expect(roles).toEqual([
      { address: world.patient.address, role: "PATIENT", organizationKind: null },
      { address: world.grantedDoctor.address, role: "DOCTOR", organizationKind: null },
      { address: world.insurer.address, role: "ORGANIZATION", organizationKind: "INSURER" },
    ]);
  });
});

describe("revocation", () => {
  test("behavior: nothing more the moment a revocation is indexed", async () => {
    const fresh = await harness.createWorld();
    const query = `query($a: Address!) { patient(address: $a) { records { edges { node { id } } } } }`;
    const before = await harness.query<{ patient: { records: { edges: unknown[] } } }>(query, {
      token: fresh.grantedDoctor.token,
      variables: { a: fresh.patient.address },
    });
    expect(before.data!.patient.records.edges).toHaveLength(4);
    await harness.fixtures.revoke(fresh.patient.address, fresh.grantedDoctor.address);
    const after = await harness.query(query, {
      token: fresh.grantedDoctor.token,
      variables: { a: fresh.patient.address },
    });
    // The grantee is still an alert recipient, so it may see the patient, but not the records.
    expect(after.data).toEqual({ patient: { records: null } });
    expect(codes(after.errors)).toEqual(["patient.records:FORBIDDEN"]);
  });
});
