/**
 * The answer cache through the real gateway, subgraphs and PostgreSQL: an answer is served again only
 * while the projections and the clock say it is still true, and every read it carries is audited again.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayMetrics } from "../metrics.ts";
import { DoctorFetch, PatientFetch } from "../operations.ts";
import { createTestGateway, newAccount, type TestGateway, type World } from "../testing/index.ts";
import { reachOf } from "./answer-cache.ts";

let harness: TestGateway;

beforeAll(async () => {
  // A small clock margin so that the expiry test waits seconds, not minutes.
  harness = await createTestGateway({ answerCache: { clockMarginMs: 200 } });
});

afterAll(async () => {
  await harness?.stop();
});

const read = /* GraphQL */ `
  query Read($address: Address!) {
    patient(address: $address) {
      address
      records(first: 50) { edges { node { id } } }
      latestVitals { systolic }
    }
  }
`;

type Answer = { patient: { records: { edges: { node: { id: string } }[] } } | null };

let requests = 0;
async function readAs(viewer: { token: string }, patient: string) {
  const requestId = `answer-cache-${++requests}`;
  const result = await harness.query<Answer>(read, {
    token: viewer.token,
    variables: { address: patient },
    headers: { "x-request-id": requestId },
  });
  return { ...result, requestId };
}

async function cacheCount(result: "hit" | "miss" | "stored" | "bypass"): Promise<number> {
  const { values } = await gatewayMetrics(harness.common.metrics).answerCache.get();
  return values.find((value) => value.labels.result === result)?.value ?? 0;
}

async function auditedReads(requestId: string): Promise<string[]> {
  await harness.audit.flush();
  const rows = await harness.db.query<{ what: string }>(
    `SELECT what FROM ${harness.db.gateway}.audit_log WHERE request_id = $1 ORDER BY what`,
    [requestId],
  );
  return rows.map((row) => row.what);
}

/** No records, and only FORBIDDEN errors (the patient itself, or its records and vitals). */
function expectRefused(result: Awaited<ReturnType<typeof readAs>>) {
  expect(result.data?.patient?.records ?? null).toBeNull();
  const codes = (result.errors ?? []).map((error) => error.extensions?.code);
  expect(codes.length).toBeGreaterThan(0);
  expect(new Set(codes)).toEqual(new Set(["FORBIDDEN"]));
}

const recordIds = (answer: Answer | null | undefined) =>
  answer?.patient?.records.edges.map((edge) => edge.node.id).sort() ?? [];

describe("answer cache", () => {
  let world: World;
  beforeAll(async () => {
    world = await harness.createWorld();
  });

  test("default: the same question is answered again without executing, its reads audited again", async () => {
    const first = await readAs(world.grantedDoctor, world.patient.address);
    const hits = await cacheCount("hit");
    const second = await readAs(world.grantedDoctor, world.patient.address);

    expect(first.errors).toBeUndefined();
    expect(recordIds(first.data).length).toBeGreaterThan(0);
    expect(second.data).toEqual(first.data);
    expect(await cacheCount("hit")).toBe(hits + 1);
    expect(second.headers.get("x-request-id")).toBe(second.requestId);
    // The doctor read the profile, the records and the vitals: audited under each request's own id.
    const firstReads = await auditedReads(first.requestId);
    expect(firstReads).toEqual(["profile", "records", "vitals"]);
    expect(await auditedReads(second.requestId)).toEqual(firstReads);
    // Served again, it is stored as one row naming the answer's read set; executed, as rows of accesses.
    const storedRows = async (table: string, requestId: string) =>
      (
        await harness.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${harness.db.gateway}.${table} WHERE request_id = $1`,
          [requestId],
        )
      )[0]!.n;
    expect(await storedRows("audit_served", second.requestId)).toBe(1);
    expect(await storedRows("audit_access", second.requestId)).toBe(0);
    expect(await storedRows("audit_served", first.requestId)).toBe(0);
    expect(await storedRows("audit_access", first.requestId)).toBeGreaterThan(0);
  });

  test("behavior: a revocation, and a grant again, are in force from the next request", async () => {
    const grantee = world.grantedDoctor;
    await readAs(grantee, world.patient.address);
    expect((await readAs(grantee, world.patient.address)).data?.patient).not.toBeNull();

    await harness.fixtures.revoke(world.patient.address, grantee.address, 600);
    expectRefused(await readAs(grantee, world.patient.address));
    // A refusal is the policy's decision on the same facts: kept too, and gone with them.
    const hits = await cacheCount("hit");
    expectRefused(await readAs(grantee, world.patient.address));
    expect(await cacheCount("hit")).toBe(hits + 1);
    await harness.fixtures.grant({
      patient: world.patient.address,
      grantee: grantee.address,
      scopes: 7,
      block: 601,
    });
    expect(recordIds((await readAs(grantee, world.patient.address)).data).length).toBeGreaterThan(0);
    await harness.fixtures.revoke(world.patient.address, grantee.address, 602);
    // Another viewer's kept answer is gone with the version too, and still right.
    expect(
      recordIds((await readAs(world.emergencyDoctor, world.patient.address)).data).length,
    ).toBeGreaterThan(0);
  });

  test("behavior: a new record is in the next answer", async () => {
    const viewer = world.patient;
    const before = await readAs(viewer, world.patient.address);
    expect((await readAs(viewer, world.patient.address)).data).toEqual(before.data);

    const added = await harness.fixtures.record({
      patient: world.patient.address,
      author: world.emergencyDoctor.address,
      type: 1,
      block: 700,
    });
    const after = await readAs(viewer, world.patient.address);
    expect(recordIds(after.data)).toEqual([...recordIds(before.data), added.recordId].sort());
  });

  test("behavior: the access log, which every read extends, is never served from the cache", async () => {
    const log = /* GraphQL */ `
      query Log($address: Address!) { patient(address: $address) { accessLog(first: 50) { edges { node { requestId } } } } }
    `;
    type Log = { patient: { accessLog: { edges: { node: { requestId: string } }[] } } };
    const ask = () =>
      harness.query<Log>(log, { token: world.patient.token, variables: { address: world.patient.address } });
    await ask();
    const read = await readAs(world.emergencyDoctor, world.patient.address);
    // The cache is serving at this moment: the doctor's second read is a hit.
    const hits = await cacheCount("hit");
    await readAs(world.emergencyDoctor, world.patient.address);
    expect(await cacheCount("hit")).toBe(hits + 1);
    await harness.audit.flush();
    const after = await ask();
    expect(after.data?.patient.accessLog.edges.map((edge) => edge.node.requestId)).toContain(read.requestId);
  });

  test("behavior: the same question asked many times at once is executed once; each request is audited", async () => {
    const cold = await harness.createWorld();
    const [misses, hits] = [await cacheCount("miss"), await cacheCount("hit")];
    const results = await Promise.all(
      Array.from({ length: 8 }, () => readAs(cold.grantedDoctor, cold.patient.address)),
    );
    expect(new Set(results.map((result) => JSON.stringify(result.data))).size).toBe(1);
    expect(recordIds(results[0]!.data).length).toBeGreaterThan(0);
    expect(await cacheCount("miss")).toBe(misses + 1);
    expect(await cacheCount("hit")).toBe(hits + 7);
    for (const { requestId } of results)
      expect(await auditedReads(requestId)).toEqual(["profile", "records", "vitals"]);
  });

  test("error: a kept answer whose reads cannot be audited is refused", async () => {
    const viewer = world.emergencyDoctor;
    await readAs(viewer, world.patient.address);
    const { record, recordAll, recordServed } = harness.audit;
    harness.audit.record = () => Promise.reject(new Error("audit log down"));
    harness.audit.recordAll = () => Promise.reject(new Error("audit log down"));
    harness.audit.recordServed = () => Promise.reject(new Error("audit log down"));
    try {
      const hits = await cacheCount("hit");
      const refused = await readAs(viewer, world.patient.address);
      expect(await cacheCount("hit")).toBe(hits + 1);
      expect(refused.data).toBeNull();
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(["AUDIT_UNAVAILABLE"]);
    } finally {
      harness.audit.record = record;
      harness.audit.recordAll = recordAll;
      harness.audit.recordServed = recordServed;
    }
  });

  test("behavior: a grant that expires ends access at its expiry, without any event", async () => {
    const patient = newAccount().address.toLowerCase() as `0x${string}`;
    const doctor = newAccount();
    await harness.fixtures.patient(patient, { block: 800 });
    await harness.fixtures.doctor(doctor.address, { block: 801 });
    // Whole seconds, as on chain; at least 2 s ahead.
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + 3) * 1000);
    await harness.fixtures.grant({ patient, grantee: doctor.address, scopes: 7, block: 802, expiresAt });
    const viewer = { token: await harness.signIn(doctor) };

    const hits = await cacheCount("hit");
    expect((await readAs(viewer, patient)).data?.patient).not.toBeNull();
    expect((await readAs(viewer, patient)).data?.patient).not.toBeNull();
    expect(await cacheCount("hit")).toBe(hits + 1);

    await new Promise((resolve) => setTimeout(resolve, expiresAt.getTime() - Date.now() + 50));
    expectRefused(await readAs(viewer, patient));
  });
});

describe("answer cache: operations of known reach", () => {
  type PatientAnswer = {
    patient: { latestVitals: { systolic: number } | null; grants: { grantee: string }[] | null } | null;
  };
  type DoctorAnswer = {
    doctor: { patients: { address: string; latestVitals: { systolic: number } | null }[] | null } | null;
  };
  const patientFetch = (viewer: { token: string }, address: string) =>
    harness.query<PatientAnswer>(PatientFetch, { token: viewer.token, variables: { address } });
  const doctorFetch = (viewer: { token: string }, address: string) =>
    harness.query<DoctorAnswer>(DoctorFetch, { token: viewer.token, variables: { address } });

  let world: World;
  let bystander: World;
  beforeAll(async () => {
    world = await harness.createWorld();
    bystander = await harness.createWorld();
  });

  test("default: a write about another patient leaves kept PatientFetch and DoctorFetch answers in place", async () => {
    const doctor = world.grantedDoctor;
    const patientAnswer = await patientFetch(doctor, world.patient.address);
    const doctorAnswer = await doctorFetch(doctor, doctor.address);
    expect(patientAnswer.data?.patient?.latestVitals).not.toBeNull();
    expect(doctorAnswer.data?.doctor?.patients?.map((p) => p.address)).toContain(world.patient.address);

    await harness.fixtures.reading({
      patient: bystander.patient.address,
      measuredAt: new Date(),
      systolic: 201,
      diastolic: 99,
      block: 900,
    });
    const hits = await cacheCount("hit");
    expect((await patientFetch(doctor, world.patient.address)).data).toEqual(patientAnswer.data);
    expect((await doctorFetch(doctor, doctor.address)).data).toEqual(doctorAnswer.data);
    expect(await cacheCount("hit")).toBe(hits + 2);
  });

  test("behavior: a write about the patient, a new grant to the doctor or a revocation is in the next answer", async () => {
    const doctor = world.grantedDoctor;
    await patientFetch(doctor, world.patient.address);
    await doctorFetch(doctor, doctor.address);

    // A reading of the patient: both answers hold the patient's address.
    await harness.fixtures.reading({
      patient: world.patient.address,
      measuredAt: new Date(Date.now() + 60_000),
      systolic: 177,
      diastolic: 88,
      block: 901,
    });
    expect((await patientFetch(doctor, world.patient.address)).data?.patient?.latestVitals?.systolic).toBe(
      177,
    );
    const listed = (await doctorFetch(doctor, doctor.address)).data?.doctor?.patients ?? [];
    expect(listed.find((p) => p.address === world.patient.address)?.latestVitals?.systolic).toBe(177);

    // A patient the doctor did not list before grants access: the grant's row holds the doctor.
    await harness.fixtures.grant({
      patient: bystander.patient.address,
      grantee: doctor.address,
      scopes: 7,
      block: 902,
    });
    const after = (await doctorFetch(doctor, doctor.address)).data?.doctor?.patients ?? [];
    expect(after.map((p) => p.address)).toContain(bystander.patient.address);

    await harness.fixtures.revoke(world.patient.address, doctor.address, 903);
    const refused = await patientFetch(doctor, world.patient.address);
    expect(refused.data?.patient?.latestVitals ?? null).toBeNull();
    expect(refused.errors?.map((error) => error.extensions?.code)).toContain("FORBIDDEN");
    const remaining = (await doctorFetch(doctor, doctor.address)).data?.doctor?.patients ?? [];
    expect(remaining.map((p) => p.address)).not.toContain(world.patient.address);
  });

  test("behavior: a truncation, which names no address, ends every kept answer", async () => {
    const viewer = world.patient;
    await patientFetch(viewer, world.patient.address);
    const hits = await cacheCount("hit");
    await patientFetch(viewer, world.patient.address);
    expect(await cacheCount("hit")).toBe(hits + 1);
    await harness.db.pool.query(`TRUNCATE ${harness.db.projection}.alert_recipients`);
    const misses = await cacheCount("miss");
    await patientFetch(viewer, world.patient.address);
    expect(await cacheCount("miss")).toBe(misses + 1);
  });
});

describe("reachOf", () => {
  test("default: the viewer, the variables' and the answer's addresses, lower case, once each", () => {
    const viewer = `0x${"Ab".repeat(20)}`;
    const patient = `0x${"cd".repeat(20)}`;
    const grantee = `0x${"ef".repeat(20)}`;
    const body = JSON.stringify({
      data: { patient: { address: patient, grants: [{ grantee }, { grantee }] } },
    });
    expect(reachOf(viewer, { address: patient }, body).sort()).toEqual(
      [viewer.toLowerCase(), patient, grantee].sort(),
    );
  });

  test("behavior: a hash or a longer hex string is not an address", () => {
    const hash = `0x${"12".repeat(32)}`;
    expect(reachOf(`0x${"01".repeat(20)}`, null, JSON.stringify({ contentHash: hash }))).toEqual([
      `0x${"01".repeat(20)}`,
    ]);
  });
});
