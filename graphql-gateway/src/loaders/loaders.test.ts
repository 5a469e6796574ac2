/**
 * DataLoader batching: the number of SQL statements a request costs does not grow with the number of
 * entities it returns. Statements are counted by wrapping the pg pool's `query`.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestGateway, lower, newAccount, type TestGateway } from "../testing/index.ts";

let harness: TestGateway;
const statements: string[] = [];
const auditWrites: number[] = [];
const isAuditWrite = (text: string) => /^\s*INSERT INTO \S+\.audit_access/.test(text);

beforeAll(async () => {
  // Counts the statements of an execution: nothing kept, no read-version check before it.
  harness = await createTestGateway({ answerCache: false });
  const pool = harness.db.pool;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const [text] = args;
    statements.push(typeof text === "string" ? text : String((text as { text?: string }).text));
    return query(...args);
  };
});

afterAll(async () => {
  await harness?.stop();
});

/** A doctor granted (all scopes) by `count` patients with three records each, one of them amended. */
async function doctorWithPatients(count: number) {
  const f = harness.fixtures;
  const doctor = newAccount();
  await f.doctor(doctor.address);
  for (let index = 0; index < count; index++) {
    const patient = lower(newAccount().address);
    await f.patient(patient);
    await f.grant({ patient, grantee: doctor.address, scopes: 7, block: 10 + index });
    const first = await f.record({ patient, author: doctor.address, type: 1, block: 100 + index });
    await f.record({ patient, author: doctor.address, type: 2, block: 200 + index });
    await f.amend(first, { block: 300 + index });
    await f.reading({ patient, measuredAt: new Date(), systolic: 120, diastolic: 80 });
  }
  return { doctor, token: await harness.signIn(doctor) };
}

const query = /* GraphQL */ `
  query DoctorPatients($doctor: Address!, $count: Int!) {
    doctor(address: $doctor) {
      address
      patients(first: $count) {
        address
        profileHash
        latestVitals { systolic }
        records(first: 5) { edges { node { id type version versions { id version } } } }
      }
    }
  }
`;

async function countStatements(count: number) {
  const { doctor, token } = await doctorWithPatients(count);
  statements.length = 0;
  const result = await harness.query<{ doctor: { patients: { records: { edges: unknown[] } }[] } }>(query, {
    token,
    variables: { doctor: lower(doctor.address), count },
  });
  // The audit writes (group commit, before the answer) are counted apart from the reads.
  const counted = statements.filter((text) => !isAuditWrite(text));
  auditWrites.push(statements.length - counted.length);
  expect(result.errors).toBeUndefined();
  expect(result.data!.doctor.patients).toHaveLength(count);
  for (const patient of result.data!.doctor.patients) expect(patient.records.edges).toHaveLength(2);
  return counted;
}

describe("dataloader", () => {
  test("default", async () => {
    const five = await countStatements(5);
    const fifty = await countStatements(50);
    // viewer role (gateway); doctor, patients of the doctor, access facts, patient rows (identity);
    // access facts, record pages, record versions (records); access facts, latest readings (vitals).
    expect(fifty).toHaveLength(10);
    expect(fifty.length).toBe(five.length);
    // Fifty patients' audit entries cost no more writes than five's: one per subgraph that read, at most.
    expect(auditWrites[1]).toBeLessThanOrEqual(3);
    expect(auditWrites[1]).toBeGreaterThan(0);
  });
});
