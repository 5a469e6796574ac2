// End to end, through the same orchestration as `npm start` (startSystem: deployment, ingest, projector,
// three subgraphs and the gateway as separate processes), on the test run's servers. Isolated: a fresh
// deployment from a fresh deployer, its own topic prefix, projection schemas, gateway schema, consumer
// group and free ports; fresh accounts. Every wait is bounded; everything is stopped in afterAll.
import { ALL_SCOPES, recordTypes, scopes } from "@carechain/contracts";
import type { Actor, CareChainFixture } from "@carechain/contracts/testing";
import { signIn } from "@carechain/gateway/client";
import { PatientFetch } from "@carechain/gateway/operations";
import { getStack } from "@carechain/stack/testing";
import { createClient } from "graphql-ws";
import { createTestClient, http, keccak256, publicActions, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import type { RunningSystem } from "./system.ts";
import { eventually, startTestSystem, type TestSystem } from "./testing.ts";

const stack = getStack();
let running: TestSystem | undefined;
let system: RunningSystem | undefined;
let id: string;
let fixture: CareChainFixture;
let doctor: Actor;
let patient: Actor;
let device: Actor;

beforeAll(async () => {
  running = await startTestSystem({
    label: "e2e",
    log: { info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`[e2e] ${m}\n`) },
  });
  ({ system, fixture, id } = running);
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
  await running?.stop();
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

const signInAs = async (actor: Actor) =>
  (await signIn({ url: system!.gatewayUrl, account: privateKeyToAccount(actor.privateKey) })).token;

/** A graphql-ws subscription as `token`, collecting the `field` of every message that arrives. */
function subscribeAs<T>(token: string, query: string, field: string) {
  const received: T[] = [];
  const errors: unknown[] = [];
  const client = createClient({
    url: `${system!.gatewayUrl.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  const dispose = client.subscribe(
    { query },
    {
      next: (value) => {
        const event = (value.data as Record<string, T> | null | undefined)?.[field];
        if (event) received.push(event);
      },
      error: (error) => void errors.push(error),
      complete: () => {},
    },
  );
  return {
    received,
    errors,
    stop: async () => {
      dispose();
      await client.dispose();
    },
  };
}

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
    const { received, errors, stop } = subscribeAs<{ patient: string; systolic: number; diastolic: number }>(
      await signInAs(doctor),
      `subscription { alertRaised(patient: "${patient.address}") { patient systolic diastolic } }`,
      "alertRaised",
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
      expect(alert).toEqual({
        patient: patient.address.toLowerCase(),
        systolic: 172,
        diastolic: 104,
      });
    } finally {
      await stop();
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

/** `recordAdded` for every patient the viewer may read, as record ids. */
function recordFeed(token: string) {
  const feed = subscribeAs<{ recordId: string }>(
    token,
    "subscription { recordAdded { recordId } }",
    "recordAdded",
  );
  return { ...feed, ids: () => feed.received.map((event) => event.recordId) };
}

describe("live deliveries follow the log (issue 13, item 1)", () => {
  test("behavior: a revoked grantee receives no record written after the revocation, in the next block or in the same block", async () => {
    const [reader, writer, other] = await Promise.all([
      fixture.createActor("verifiedDoctor"),
      fixture.createActor("verifiedDoctor"),
      fixture.createActor("patient"),
    ]);
    await patient.client.grantAccess({ grantee: writer.address, scopes: ALL_SCOPES });
    await patient.client.grantAccess({ grantee: reader.address, scopes: scopes.READ_RECORDS });
    await other.client.grantAccess({ grantee: writer.address, scopes: ALL_SCOPES });
    await other.client.grantAccess({ grantee: reader.address, scopes: scopes.READ_RECORDS });
    let serial = 0;
    const write = (to: Actor) =>
      writer.client.addRecord({
        patient: to.address,
        recordType: recordTypes.consultationNote,
        contentHash: keccak256(toHex(`live-${id}-${serial}`)),
        storagePointer: keccak256(toHex(`live-pointer-${id}-${serial++}`)),
      });

    const readerFeed = recordFeed(await signInAs(reader));
    const patientFeed = recordFeed(await signInAs(patient)); // the control: it sees every record
    try {
      // Both subscriptions are live once each has received a record the reader may still read.
      let lastWarmUp = 0;
      await eventually(
        "both subscriptions to be live",
        async () => {
          if (readerFeed.errors.length + patientFeed.errors.length > 0)
            throw new Error(
              `subscription failed: ${JSON.stringify([...readerFeed.errors, ...patientFeed.errors])}`,
            );
          const ids = patientFeed.ids();
          if (ids.length > 0 && ids.every((recordId) => readerFeed.ids().includes(recordId))) return true;
          if (Date.now() - lastWarmUp > 3_000) {
            lastWarmUp = Date.now();
            await write(patient);
          }
          return undefined;
        },
        60_000,
      );

      // 1. The revocation, then the record in the next block.
      await patient.client.revokeAccess({ grantee: reader.address });
      const nextBlock = await write(patient);

      // 2. Granted again, then the revocation and the record mined in ONE block (revocation first).
      await patient.client.grantAccess({ grantee: reader.address, scopes: scopes.READ_RECORDS });
      const chain = createTestClient({ mode: "anvil", transport: http(stack.rpcUrl) });
      const pendingFrom = async (address: string) => {
        const pool = (await chain.getTxpoolContent()) as { pending: Record<string, unknown> };
        return Object.keys(pool.pending).some((from) => from.toLowerCase() === address.toLowerCase())
          ? true
          : undefined;
      };
      let revocation: ReturnType<typeof patient.client.revokeAccess>;
      let sameBlock: ReturnType<typeof write>;
      await chain.setAutomine(false);
      try {
        revocation = patient.client.revokeAccess({ grantee: reader.address });
        await eventually("the revocation in the pool", () => pendingFrom(patient.address), 15_000);
        sameBlock = write(patient);
        await eventually("the record in the pool", () => pendingFrom(writer.address), 15_000);
        await chain.mine({ blocks: 1 });
      } finally {
        await chain.setAutomine(true);
      }
      const [revoked, added] = await Promise.all([revocation, sameBlock]);
      const [revokedReceipt, addedReceipt] = await Promise.all(
        [revoked.hash, added.hash].map((hash) => chain.extend(publicActions).getTransactionReceipt({ hash })),
      );
      expect(addedReceipt!.blockNumber).toBe(revokedReceipt!.blockNumber);
      expect(addedReceipt!.transactionIndex).toBeGreaterThan(revokedReceipt!.transactionIndex);

      // 3. A marker the reader may read (another patient's record): once the reader has it, every event
      // before it in the log has been decided for the reader, in order.
      const marker = await write(other);
      await eventually("the marker and the control's records", async () =>
        readerFeed.ids().includes(marker.recordId) &&
        patientFeed.ids().includes(nextBlock.recordId) &&
        patientFeed.ids().includes(added.recordId)
          ? true
          : undefined,
      );
      expect(readerFeed.ids()).not.toContain(nextBlock.recordId);
      expect(readerFeed.ids()).not.toContain(added.recordId);
    } finally {
      await Promise.all([readerFeed.stop(), patientFeed.stop()]);
    }
  });
});
