// Webhooks end to end on the real system: records written on chain reach an insurer's receiver through
// ingest -> Kafka -> projector -> event feed -> delivery service -> a signed POST, verified by the consumer
// package. The insurer manages its subscription with an API key; the receiver goes down and comes back;
// the patient revokes. Lean on purpose: one system, one subscription, a few records.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookHandler, type FeedEvent } from "@carechain/consumer";
import { ALL_SCOPES, recordTypes, scopes } from "@carechain/contracts";
import type { Actor } from "@carechain/contracts/testing";
import { signIn } from "@carechain/gateway/client";
import { keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { eventually, startTestSystem, type TestSystem } from "./testing.ts";

let running: TestSystem | undefined;
let insurer: Actor;
let doctor: Actor;
let alice: Actor;
let bob: Actor;
let apiKey: string;

type Answer<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

async function graphql<T>(credential: string, query: string, variables: object = {}): Promise<Answer<T>> {
  const response = await fetch(`${running!.system.gatewayUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Answer<T>;
}

const token = async (actor: Actor) =>
  (await signIn({ url: running!.system.gatewayUrl, account: privateKeyToAccount(actor.privateKey) })).token;

/** A receiver on 127.0.0.1 that verifies every POST with the consumer package; can go down and come back. */
class Receiver {
  readonly events: { event: FeedEvent; at: number }[] = [];
  readonly refusals: string[] = [];
  private server: Server | undefined;
  port = 0;
  secret = "";

  async start(): Promise<void> {
    const handler = createWebhookHandler({
      secret: this.secret,
      onEvent: (event) => {
        this.events.push({ event, at: Date.now() });
      },
      onOutcome: (outcome) => {
        if (outcome.status >= 400) this.refusals.push(outcome.reason ?? String(outcome.status));
      },
    });
    this.server = createServer(handler);
    this.server.listen(this.port, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, "close");
    this.server = undefined;
  }

  recordsOf(patient: Actor): string[] {
    return this.events
      .filter(({ event }) => event.patient === patient.address.toLowerCase() && event.type === "RECORD_ADDED")
      .map(({ event }) => (event.data as { recordId: string }).recordId);
  }
}

const receiver = new Receiver();
let serial = 0;
async function addRecord(patient: Actor): Promise<{ recordId: string; minedAt: number }> {
  const { recordId } = await doctor.client.addRecord({
    patient: patient.address,
    recordType: recordTypes.consultationNote,
    contentHash: keccak256(toHex(`hook-${running!.id}-${serial}`)),
    storagePointer: keccak256(toHex(`hook-pointer-${running!.id}-${serial++}`)),
  });
  return { recordId, minedAt: Date.now() };
}

beforeAll(async () => {
  running = await startTestSystem({
    label: "hooks",
    // Retries a second apart: the "receiver down" test waits for retries, not for the day-long default.
    env: { DELIVERY_RETRY_SCHEDULE: "1s,1s,1s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s,2s" },
    log: { info: () => {}, warn: () => {}, error: (m) => process.stderr.write(`[webhooks] ${m}\n`) },
  });
  const { fixture, system } = running;
  [insurer, doctor, alice, bob] = await Promise.all([
    fixture.createActor("insurer"),
    fixture.createActor("verifiedDoctor"),
    fixture.createActor("patient"),
    fixture.createActor("patient"),
  ]);
  for (const patient of [alice, bob]) {
    await patient.client.grantAccess({ grantee: doctor.address, scopes: ALL_SCOPES });
    await patient.client.grantAccess({ grantee: insurer.address, scopes: scopes.READ_RECORDS });
  }
  await system.waitForCatchUp(60_000);
  // The insurer's wallet session mints a key; the key (a machine's credential) manages the subscription.
  const created = await graphql<{ createApiKey: { key: string } }>(
    await token(insurer),
    `mutation { createApiKey(name: "claims-system") { key apiKey { id } } }`,
  );
  expect(created.errors).toBeUndefined();
  apiKey = created.data!.createApiKey.key;
  await receiver.start();
  const subscription = await graphql<{ createWebhookSubscription: { secret: string } }>(
    apiKey,
    `mutation ($url: String!) {
       createWebhookSubscription(input: { url: $url, types: [RECORD_ADDED] }) { secret subscription { id status } }
     }`,
    { url: `http://127.0.0.1:${receiver.port}/hooks` },
  );
  expect(subscription.errors).toBeUndefined();
  receiver.secret = subscription.data!.createWebhookSubscription.secret;
  // The handler captured the secret at start: start it again with the real one, on the same port.
  await receiver.stop();
  await receiver.start();
}, 240_000);

afterAll(async () => {
  await receiver.stop();
  await running?.stop();
}, 120_000);

describe("webhooks on the real system", () => {
  test("default: records written on chain arrive signed, once each, in chain order per patient", async () => {
    const written: { recordId: string; minedAt: number; patient: Actor }[] = [];
    for (let i = 0; i < 6; i++) {
      const patient = i % 2 === 0 ? alice : bob;
      written.push({ ...(await addRecord(patient)), patient });
    }
    await eventually("every record at the receiver", async () =>
      receiver.events.length >= written.length ? true : undefined,
    );
    for (const patient of [alice, bob])
      expect(receiver.recordsOf(patient)).toEqual(
        written.filter((w) => w.patient === patient).map((w) => w.recordId),
      );
    expect(new Set(receiver.events.map(({ event }) => event.id)).size).toBe(receiver.events.length);
    expect(receiver.refusals).toEqual([]);
    const latencies = written
      .map(
        (w) =>
          receiver.events.find(({ event }) => (event.data as { recordId: string }).recordId === w.recordId)!
            .at - w.minedAt,
      )
      .sort((a, b) => a - b);
    process.stdout.write(
      `[webhooks] mined -> received over ${latencies.length} records: p50 ${latencies[Math.floor(latencies.length / 2)]} ms, max ${latencies.at(-1)} ms\n`,
    );
  });

  test("behavior: a receiver that is down gets every event once it is back, in order, with no gap", async () => {
    await receiver.stop();
    const before = receiver.recordsOf(alice).length;
    const written: string[] = [];
    for (let i = 0; i < 3; i++) written.push((await addRecord(alice)).recordId);
    // Attempts fail meanwhile (connection refused) and are retried on the schedule.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await receiver.start();
    await eventually(
      "the missed records",
      async () => (receiver.recordsOf(alice).length >= before + written.length ? true : undefined),
      60_000,
    );
    expect(receiver.recordsOf(alice).slice(before)).toEqual(written);
  });

  test("behavior: after the patient revokes, nothing more about that patient is delivered; others go on", async () => {
    await alice.client.revokeAccess({ grantee: insurer.address });
    const hidden = await addRecord(alice);
    const shown = await addRecord(bob);
    await eventually("bob's record", async () =>
      receiver.recordsOf(bob).includes(shown.recordId) ? true : undefined,
    );
    // Alice's record came first in the chain: it has been decided already, and withheld.
    expect(receiver.recordsOf(alice)).not.toContain(hidden.recordId);
  });

  test("behavior: every delivery is in the patient's access log, on the webhook channel", async () => {
    const answer = await graphql<{
      patient: { accessLog: { edges: { node: { viewer: string; channel: string } }[] } };
    }>(
      await token(bob),
      `query ($address: Address!) { patient(address: $address) { accessLog(first: 100) { edges { node { viewer channel } } } } }`,
      { address: bob.address },
    );
    expect(answer.errors).toBeUndefined();
    const deliveries = answer.data!.patient.accessLog.edges.filter(
      ({ node }) => node.viewer === insurer.address.toLowerCase() && node.channel === "WEBHOOK",
    );
    expect(deliveries.length).toBeGreaterThanOrEqual(receiver.recordsOf(bob).length);
  });

  test("error: an API key cannot read patient data, only events and its subscriptions", async () => {
    const answer = await graphql<unknown>(
      apiKey,
      `query ($address: Address!) { patient(address: $address) { address } }`,
      { address: bob.address },
    );
    expect(answer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
