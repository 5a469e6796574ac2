// Supervision of the running system, through the same orchestration as `npm start` (startSystem), on the
// test run's servers: a service killed with SIGKILL comes back by itself (its /health answers 200 again,
// from a new process), the others keep serving meanwhile, and what was written on chain during the outage
// becomes readable through the gateway afterwards. Isolated like e2e.test.ts (own deployment, topics,
// schemas, consumer group, free ports). Prints, for each kill, the time until healthy and until readable.
import { ALL_SCOPES, recordTypes } from "@carechain/contracts";
import type { Actor, CareChainFixture } from "@carechain/contracts/testing";
import { signIn } from "@carechain/gateway/client";
import { PatientFetch } from "@carechain/gateway/operations";
import { isAlive, type ServerExitedError, type SupervisedStatus } from "@carechain/stack";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RunningService, ServiceName } from "./services.ts";
import type { RunningSystem } from "./system.ts";
import { eventually, startTestSystem, type TestSystem } from "./testing.ts";

// The first restart waits 2 s: wide enough an outage to query and write in while the service is down.
const RESTART_DELAY_MS = 2_000;

let running: TestSystem | undefined;
let system: RunningSystem | undefined;
let id: string;
let fixture: CareChainFixture;
let doctor: Actor;
let patient: Actor;
let token: string;
const gaveUp: ServerExitedError[] = [];
const figures: string[] = [];

beforeAll(async () => {
  running = await startTestSystem({
    label: "sup",
    env: { RESTART_DELAY_MS: String(RESTART_DELAY_MS) },
    // Warnings name every crash and restart: one the test did not cause shows here.
    log: {
      info: () => {},
      // The full message: a crash the test did not cause shows with its log tail.
      warn: (m) => process.stderr.write(`[supervision] ${m}\n`),
      error: (m) => process.stderr.write(`[supervision] ${m}\n`),
    },
  });
  ({ system, fixture, id } = running);
  system.onCrash((error) => gaveUp.push(error));
  [doctor, patient] = await Promise.all([
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("patient"),
  ]);
  await patient.client.grantAccess({ grantee: doctor.address, scopes: ALL_SCOPES });
  await system.waitForCatchUp(60_000);
  const account = privateKeyToAccount(doctor.privateKey);
  token = await eventually(
    "a sign-in",
    () =>
      signIn({ url: system!.gatewayUrl, account }).then(
        (session) => session.token,
        () => undefined,
      ),
    60_000,
    100,
  );
}, 240_000);

afterAll(async () => {
  if (figures.length > 0) process.stdout.write(`\n[supervision] figures\n${figures.join("\n")}\n`);
  await running?.stop();
}, 120_000);

type Answer = {
  data?: { patient: null | { records: { edges: { node: { id: string } }[] } } };
  errors?: { message: string }[];
};

/** PatientFetch through the gateway; undefined when the gateway does not answer at all. */
async function patientFetch(): Promise<{ status: number; body: Answer } | undefined> {
  try {
    const response = await fetch(`${system!.gatewayUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: PatientFetch,
        variables: { address: patient.address },
        operationName: "PatientFetch",
      }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, body: (await response.json()) as Answer };
  } catch {
    return undefined;
  }
}

const recordIds = (answer: { body: Answer } | undefined) =>
  answer?.body.data?.patient?.records.edges.map((edge) => edge.node.id);

const serviceOf = (name: ServiceName): RunningService => system!.services.find((s) => s.name === name)!;
const statusOf = (name: ServiceName): SupervisedStatus => system!.supervision().find((s) => s.name === name)!;

/** SIGKILL to the service's process; resolves once supervision saw the crash. */
async function kill(name: ServiceName): Promise<{ pid: number; at: number }> {
  const pid = serviceOf(name).process.pid;
  const restartsBefore = statusOf(name).restarts;
  const at = Date.now();
  process.kill(pid, "SIGKILL");
  await eventually(
    `supervision to see ${name} crash`,
    async () =>
      statusOf(name).state === "restarting" || statusOf(name).restarts > restartsBefore ? true : undefined,
    60_000,
    100,
  );
  return { pid, at };
}

/** Until the service answers /health 200 from a new process; the ms since `killedAt`. */
async function healthyAgain(name: ServiceName, oldPid: number, killedAt: number): Promise<number> {
  const service = serviceOf(name);
  await eventually(
    `${name} to answer /health 200 again`,
    async () => {
      if (service.process.pid === oldPid || statusOf(name).state !== "running") return undefined;
      const response = await fetch(`${service.healthUrl}/health`, {
        signal: AbortSignal.timeout(2_000),
      }).catch(() => undefined);
      return response?.status === 200 ? true : undefined;
    },
    120_000,
  );
  return Date.now() - killedAt;
}

async function addRecord(label: string): Promise<string> {
  const { recordId } = await doctor.client.addRecord({
    patient: patient.address,
    recordType: recordTypes.consultationNote,
    contentHash: keccak256(toHex(`sup-${label}-${id}`)),
    storagePointer: keccak256(toHex(`sup-pointer-${label}-${id}`)),
  });
  return recordId;
}

/** Until the record is in PatientFetch; the ms since `since`. */
async function readable(recordId: string, since: number, timeoutMs = 120_000): Promise<number> {
  await eventually(
    `record ${recordId} through the gateway`,
    async () => (recordIds(await patientFetch())?.includes(recordId) ? true : undefined),
    timeoutMs,
    200,
  );
  return Date.now() - since;
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("supervision of the running system", () => {
  test("behavior: kill -9 of ingest: the gateway keeps answering, ingest comes back, the outage's write is readable", async () => {
    const first = await patientFetch();
    const before = recordIds(first);
    expect(before, JSON.stringify(first)).toBeDefined();
    const { pid, at } = await kill("ingest");
    expect(isAlive(pid)).toBe(false);

    // While ingest is down: the gateway answers from PostgreSQL, and a record is written on chain.
    const during = await patientFetch();
    expect(during?.status).toBe(200);
    expect(recordIds(during)).toEqual(before);
    const recordId = await addRecord("ingest-outage");
    expect(statusOf("ingest")).toMatchObject({ state: "restarting", pid: undefined, attempt: 1 });

    const healthyMs = await healthyAgain("ingest", pid, at);
    const readableMs = await readable(recordId, at);
    expect(statusOf("ingest")).toMatchObject({ state: "running", restarts: 1 });
    figures.push(
      `kill -9 ingest:    healthy again after ${s(healthyMs)} (restart delay ${s(RESTART_DELAY_MS)}), outage write readable after ${s(readableMs)}`,
    );
  }, 240_000);

  test("behavior: kill -9 of the projector: it comes back and applies what was written meanwhile", async () => {
    const { pid, at } = await kill("projector");
    const during = await patientFetch();
    expect(during?.status).toBe(200);
    const recordId = await addRecord("projector-outage");
    expect(statusOf("projector").state).toBe("restarting");

    const healthyMs = await healthyAgain("projector", pid, at);
    const readableMs = await readable(recordId, at, 180_000);
    expect(statusOf("projector")).toMatchObject({ state: "running", restarts: 1 });
    figures.push(
      `kill -9 projector: healthy again after ${s(healthyMs)} (restart delay ${s(RESTART_DELAY_MS)}), outage write readable after ${s(readableMs)}`,
    );
  }, 240_000);

  test("behavior: kill -9 of the records subgraph, then of the gateway: both come back and serve again", async () => {
    const records = await kill("records");
    const recordsHealthyMs = await healthyAgain("records", records.pid, records.at);
    const afterRecords = await addRecord("after-records-restart");
    const recordsReadableMs = await readable(afterRecords, records.at);

    const gateway = await kill("gateway");
    expect(await patientFetch()).toBeUndefined(); // nothing listens while it restarts
    const written = await addRecord("gateway-outage");
    const gatewayHealthyMs = await healthyAgain("gateway", gateway.pid, gateway.at);
    const gatewayReadableMs = await readable(written, gateway.at);

    expect(statusOf("records")).toMatchObject({ state: "running", restarts: 1 });
    expect(statusOf("gateway")).toMatchObject({ state: "running", restarts: 1 });
    figures.push(
      `kill -9 records:   healthy again after ${s(recordsHealthyMs)}, a fresh write readable after ${s(recordsReadableMs)}`,
      `kill -9 gateway:   healthy again after ${s(gatewayHealthyMs)}, outage write readable after ${s(gatewayReadableMs)}`,
    );
  }, 240_000);

  test("default: nothing gave up, and every other service ran on untouched", () => {
    expect(gaveUp).toEqual([]);
    const restarts = Object.fromEntries(
      system!.supervision().map((status) => [status.name, status.restarts]),
    );
    expect(restarts).toEqual({
      ingest: 1,
      projector: 1,
      identity: 0,
      records: 1,
      vitals: 0,
      gateway: 1,
      delivery: 0,
      web: 0,
    });
  });
});
