// End to end, through the same orchestration as `npm start` (startSystem: deployment, ingest, projector,
// three subgraphs and the gateway as separate processes), on the test run's servers. Isolated: a fresh
// deployment from a fresh deployer, its own topic prefix, projection schemas, gateway schema, consumer
// group and free ports; fresh accounts. Every wait is bounded; everything is stopped in afterAll.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { ALL_SCOPES, recordTypes } from "@carechain/contracts";
import { type Actor, type CareChainFixture, fixtureFor } from "@carechain/contracts/testing";
import { signIn } from "@carechain/gateway/client";
import { PatientFetch } from "@carechain/gateway/operations";
import { isAlive, runFolderName } from "@carechain/stack";
import { createKafka, getStack } from "@carechain/stack/testing";
import { createClient } from "graphql-ws";
import pg from "pg";
import { createTestClient, http, keccak256, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { loadSystemConfig } from "./config.ts";
import { type RunningSystem, startSystem } from "./system.ts";

const stack = getStack();
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const names = {
  topicPrefix: `e2e-${id}`,
  schemaBase: `e2e_${id}`,
  gatewaySchema: `e2e_${id}_gateway`,
  groupId: `e2e-${id}-projector`,
};
const dataDir = join(dirname(stack.dataDir), runFolderName("system-e2e"));
const deployerKey = generatePrivateKey();

let system: RunningSystem | undefined;
let fixture: CareChainFixture;
let doctor: Actor;
let patient: Actor;
let device: Actor;

beforeAll(async () => {
  const config = loadSystemConfig({
    CARECHAIN_CACHE_DIR: dataDir,
    CARECHAIN_DEMO: "0",
    DEPLOYER_PRIVATE_KEY: deployerKey,
    DEPLOYMENTS_DIR: join(dataDir, "deployments"),
    JWT_SECRET: toHex(keccak256(toHex(id))).slice(2),
    KAFKA_TOPIC_PREFIX: names.topicPrefix,
    KAFKA_GROUP_ID: names.groupId,
    PROJECTION_SCHEMA_BASE: names.schemaBase,
    GATEWAY_SCHEMA: names.gatewaySchema,
    POLL_INTERVAL_MS: "200",
    GATEWAY_PORT: "0", // a free one
    IDENTITY_PORT: "0", // a free one
    RECORDS_PORT: "0", // a free one
    VITALS_PORT: "0", // a free one
    INGEST_HEALTH_PORT: "0", // a free one
    PROJECTOR_HEALTH_PORT: "0", // a free one
    SERVICE_START_TIMEOUT_MS: "90000",
    CATCH_UP_TIMEOUT_MS: "60000",
  });
  // A fresh deployer (the well-known anvil accounts are shared by every test file).
  const testClient = createTestClient({ mode: "anvil", transport: http(stack.rpcUrl) });
  await testClient.setBalance({ address: privateKeyToAccount(deployerKey).address, value: parseEther("10") });

  system = await startSystem({
    config,
    servers: { rpcUrl: stack.rpcUrl, databaseUrl: stack.databaseUrl, kafkaBrokers: stack.kafkaBrokers },
    dataDir,
    log: { info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`[e2e] ${m}\n`) },
  });

  fixture = await fixtureFor({
    rpcUrl: stack.rpcUrl,
    deployment: system.deployment,
    adminPrivateKey: deployerKey,
  });
  [doctor, patient] = await Promise.all([
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("patient"),
  ]);
  await patient.client.grantAccess({ grantee: doctor.address, scopes: ALL_SCOPES });
  device = await fixture.createDevice(patient);
  await patient.client.setVitalsRange({
    patient: patient.address,
    systolicMin: 90,
    systolicMax: 140,
    diastolicMin: 60,
    diastolicMax: 90,
  });
  await system.waitForCatchUp(60_000);
}, 180_000);

afterAll(async () => {
  const pids = system?.services.map((service) => service.process.pid) ?? [];
  await system?.stop();
  // Nothing left running, whatever happened in the tests.
  expect(pids.filter(isAlive)).toEqual([]);
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    for (const schema of [
      names.schemaBase,
      `${names.schemaBase}_meta`,
      `${names.schemaBase}_p1`,
      names.gatewaySchema,
    ]) {
      await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
    }
  } finally {
    await client.end();
  }
  const admin = createKafka("system-e2e-cleanup").admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${names.topicPrefix}.`));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 120_000);

type GraphQLAnswer = {
  data?: { patient: null | { address: string; records: { edges: { node: { id: string } }[] } } };
  errors?: { message: string; extensions?: { code?: string } }[];
};

async function patientFetch(token: string, address: string): Promise<GraphQLAnswer> {
  const response = await fetch(`${system!.gatewayUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: PatientFetch, variables: { address }, operationName: "PatientFetch" }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as GraphQLAnswer;
}

/** Polls `probe` until it returns a value (not undefined), failing with `what` after `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const signInAs = async (actor: Actor) =>
  (await signIn({ url: system!.gatewayUrl, account: privateKeyToAccount(actor.privateKey) })).token;

describe("the system, end to end", () => {
  test("default: a doctor with a grant reads the patient; a record written on chain shows through the gateway", async () => {
    const token = await signInAs(doctor);
    const first = await patientFetch(token, patient.address);
    expect(first.data?.patient?.address).toBe(patient.address.toLowerCase());
    expect(first.data?.patient?.records.edges).toEqual([]);

    const { recordId } = await doctor.client.addRecord({
      patient: patient.address,
      recordType: recordTypes.consultationNote,
      contentHash: keccak256(toHex(`e2e-note-${id}`)),
      storagePointer: keccak256(toHex(`e2e-pointer-${id}`)),
    });
    const ids = await eventually("the new record in PatientFetch", async () => {
      const answer = await patientFetch(token, patient.address);
      const edges = answer.data?.patient?.records.edges ?? [];
      return edges.length > 0 ? edges.map((edge) => edge.node.id) : undefined;
    });
    expect(ids).toEqual([recordId]);
  });

  test("behavior: an out-of-range reading reaches the doctor (READ_VITALS) on a graphql-ws subscription", async () => {
    const token = await signInAs(doctor);
    const received: { alertRaised: { patient: string; systolic: number; diastolic: number } }[] = [];
    const client = createClient({
      url: `${system!.gatewayUrl.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    const errors: unknown[] = [];
    const dispose = client.subscribe(
      { query: `subscription { alertRaised(patient: "${patient.address}") { patient systolic diastolic } }` },
      {
        next: (value) => void received.push(value.data as (typeof received)[number]),
        error: (error) => void errors.push(error),
        complete: () => {},
      },
    );
    try {
      // The server registers the subscription asynchronously: send a reading every few seconds until one
      // arrives (bounded).
      let lastSent = 0;
      const alert = await eventually(
        "an alertRaised event",
        async () => {
          if (errors.length > 0) throw new Error(`subscription failed: ${JSON.stringify(errors)}`);
          if (received.length > 0) return received[0];
          if (Date.now() - lastSent > 3_000) {
            lastSent = Date.now();
            await device.client.submitReading({
              measuredAt: await fixture.now(),
              systolic: 172,
              diastolic: 104,
            });
          }
          return undefined;
        },
        45_000,
      );
      expect(alert.alertRaised).toEqual({
        patient: patient.address.toLowerCase(),
        systolic: 172,
        diastolic: 104,
      });
    } finally {
      dispose();
      await client.dispose();
    }
  });

  test("behavior: once the patient's revocation is indexed, the same read is FORBIDDEN", async () => {
    const token = await signInAs(doctor);
    // Before: the profile and the records (grants are the patient's own business: FORBIDDEN to anyone else).
    const before = await patientFetch(token, patient.address);
    expect(before.data?.patient?.records.edges).toHaveLength(1);
    expect(before.errors?.map((error) => error.message)).toEqual([
      "Not allowed to read this patient's grants.",
    ]);
    await patient.client.revokeAccess({ grantee: doctor.address });
    const denied = await eventually("FORBIDDEN after the revocation", async () => {
      const answer = await patientFetch(token, patient.address);
      return answer.data?.patient === null ? answer : undefined;
    });
    expect(denied.errors).toEqual([
      expect.objectContaining({
        message: "Not allowed to read this patient's profile.",
        extensions: expect.objectContaining({ code: "FORBIDDEN" }),
      }),
    ]);
  });
});
