/**
 * Access that ends without the viewer's grant changing: break-glass when the doctor loses verification,
 * and an alert recipient the patient removed. Through the real gateway and subgraphs, from the next request.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
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

const read = /* GraphQL */ `
  query Read($address: Address!) {
    patient(address: $address) {
      address
      records(first: 5) { edges { node { id } } }
      latestVitals { systolic }
      alerts(first: 5) { systolic diastolic }
    }
  }
`;

type Answer = {
  patient: {
    address: string;
    records: { edges: unknown[] } | null;
    latestVitals: unknown;
    alerts: { systolic: number }[] | null;
  } | null;
};

async function readAs(token: string) {
  const result = await harness.query<Answer>(read, { token, variables: { address: world.patient.address } });
  const denied = (result.errors ?? [])
    .filter((error) => error.extensions?.code === "FORBIDDEN")
    .map((error) => error.path?.join("."))
    .sort();
  const others = (result.errors ?? []).filter((error) => error.extensions?.code !== "FORBIDDEN");
  expect(others).toEqual([]);
  return { data: result.data?.patient ?? null, denied };
}

const setVerified = (doctor: string, verified: boolean) =>
  harness.db.query(`UPDATE ${harness.db.projection}.doctors SET verified = $2 WHERE address = $1`, [
    doctor,
    verified,
  ]);

describe("access that ends", () => {
  test("behavior: break-glass ends when the doctor's verification is withdrawn (as the contract's hasAccess)", async () => {
    const doctor = world.emergencyDoctor;
    const before = await readAs(doctor.token);
    expect(before.denied).toEqual([]);
    expect(before.data?.records?.edges.length).toBeGreaterThan(0);

    await setVerified(doctor.address, false); // what the projector does on DoctorVerificationRevoked
    try {
      const after = await readAs(doctor.token);
      expect(after.data).toBeNull();
      expect(after.denied).toEqual(["patient"]);
      // Nor does the patient appear among the doctor's patients any more.
      const own = await harness.query<{ doctor: { patients: { address: string }[] } }>(
        `query($a: Address!) { doctor(address: $a) { patients { address } } }`,
        { token: doctor.token, variables: { a: doctor.address } },
      );
      expect(own.data?.doctor.patients.map((p) => p.address)).not.toContain(world.patient.address);
    } finally {
      await setVerified(doctor.address, true);
    }
    // Verified again while the access is still open: the contract would answer yes again, and so do we.
    expect((await readAs(doctor.token)).denied).toEqual([]);
  });

  test("behavior: a recipient the patient removed loses the profile and the past alerts from the next request", async () => {
    const recipient = world.alertRecipient;
    const before = await readAs(recipient.token);
    expect(before.data?.alerts?.length).toBeGreaterThan(0);

    await harness.fixtures.alertRecipients(world.patient.address, [world.grantedDoctor.address]);
    try {
      const after = await readAs(recipient.token);
      expect(after.data).toBeNull();
      expect(after.denied).toEqual(["patient"]);
      const alerts = await harness.query<{ doctor: { alerts: unknown[] } }>(
        `query($a: Address!) { doctor(address: $a) { alerts(first: 10) { systolic } } }`,
        { token: recipient.token, variables: { a: recipient.address } },
      );
      expect(alerts.errors).toBeUndefined();
      expect(alerts.data?.doctor.alerts).toEqual([]);
    } finally {
      await harness.fixtures.alertRecipients(world.patient.address, [
        world.alertRecipient.address,
        world.grantedDoctor.address,
      ]);
    }
  });
});
