/**
 * What the audit costs a read, side by side in one run: PatientFetch as the patient (no audit entry) and as a
 * granted doctor (three entries, stored before the answer leaves). Real gateway, subgraphs and PostgreSQL.
 *
 *   npx vitest bench --run graphql-gateway/src/audit/read-path.bench.ts
 */
import { afterAll, beforeAll, bench, describe } from "vitest";
import { PatientFetch } from "../operations.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/index.ts";

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway();
  world = await harness.createWorld();
});

afterAll(async () => {
  await harness?.stop();
});

const fetchAs = async (token: string) => {
  const result = await harness.query(PatientFetch, { token, variables: { address: world.patient.address } });
  if (!result.data?.patient) throw new Error(`PatientFetch failed: ${JSON.stringify(result.errors)}`);
};

describe("PatientFetch, one at a time", () => {
  bench("as the patient (not audited)", () => fetchAs(world.patient.token), {
    time: 5_000,
    warmupTime: 1_000,
  });
  bench("as a granted doctor (3 audit entries stored first)", () => fetchAs(world.grantedDoctor.token), {
    time: 5_000,
    warmupTime: 1_000,
  });
});

describe("PatientFetch, 16 at a time", () => {
  const burst = async (token: () => string) => {
    await Promise.all(Array.from({ length: 16 }, () => fetchAs(token())));
  };
  bench("as the patient (not audited)", () => burst(() => world.patient.token), { time: 5_000 });
  bench("as a granted doctor (audited, group commit)", () => burst(() => world.grantedDoctor.token), {
    time: 5_000,
  });
});
