import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { createTestGateway, newAccount, type TestGateway, until, type World } from "../testing/index.ts";

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway({ subscriptions: true });
  world = await harness.createWorld();
  await harness.gateway.subscriptionsReady;
});

afterAll(async () => {
  await harness?.stop();
});

type Received = { data?: Record<string, Record<string, unknown>>; errors?: unknown[] };

/** Subscribes as `token` and collects what arrives. */
function subscribe(token: string | null, query: string) {
  const received: Received[] = [];
  const closed: { code?: number } = {};
  const client = createClient({
    url: harness.gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: false,
    on: {
      closed: (event) => {
        closed.code = (event as { code?: number }).code;
      },
    },
    onNonLazyError: () => {},
  });
  const dispose = client.subscribe(
    { query },
    { next: (value) => void received.push(value as Received), error: () => {}, complete: () => {} },
  );
  return {
    received,
    closed,
    stop: async () => {
      dispose();
      await client.dispose();
    },
  };
}

const alertQuery = `subscription { alertRaised { id patient systolic diastolic recipients measuredAt finality retracted } }`;
const recordQuery = `subscription { recordAdded { id recordId patient author typeCode version previousRecordId retracted } }`;

describe("subscriptions", () => {
  test("default", async () => {
    const recipient = subscribe(world.alertRecipient.token, alertQuery);
    const patient = subscribe(world.patient.token, alertQuery);
    const stranger = subscribe(world.ungrantedDoctor.token, alertQuery);
    const insurer = subscribe(world.insurer.token, alertQuery);
    try {
      await until(() => harness.gateway.liveSubscriptions() === 4, "four subscriptions");
      // Applied by the projector, which commits it to the feed the gateway follows.
      const alert = await harness.fixtures.alert({
        patient: world.patient.address,
        measuredAt: new Date(),
        systolic: 171,
        diastolic: 101,
        recipients: [world.alertRecipient.address],
        block: 1000,
      });
      await until(() => recipient.received.length === 1 && patient.received.length === 1, "the alert");
      const expected = {
        alertRaised: {
          id: alert.eventId,
          patient: world.patient.address,
          systolic: 171,
          diastolic: 101,
          recipients: [world.alertRecipient.address],
          measuredAt: alert.measuredAt.toISOString(),
          // Indexed with no blocks on top (the fixtures' envelopes say no confirmations).
          finality: "PROVISIONAL",
          retracted: false,
        },
      };
      expect(recipient.received).toEqual([{ data: expected }]);
      expect(patient.received).toEqual([{ data: expected }]);

      // A later event reaches everyone who may have it; by then the first one would have reached the others.
      // (The patient names them recipients first: an alert reaches only its CURRENT recipients.)
      const recipients = [world.ungrantedDoctor.address, world.insurer.address];
      await harness.fixtures.alertRecipients(world.patient.address, [
        world.alertRecipient.address,
        ...recipients,
      ]);
      try {
        const marker = await harness.fixtures.alert({
          patient: world.patient.address,
          measuredAt: new Date(),
          systolic: 171,
          diastolic: 101,
          recipients,
          block: 1001,
        });
        await until(
          () => stranger.received.length === 1 && insurer.received.length === 1,
          "the second alert",
        );
        expect(stranger.received.map((message) => message.data!.alertRaised!.id)).toEqual([marker.eventId]);
        expect(insurer.received.map((message) => message.data!.alertRaised!.id)).toEqual([marker.eventId]);
      } finally {
        await harness.fixtures.alertRecipients(world.patient.address, [
          world.alertRecipient.address,
          world.grantedDoctor.address,
        ]);
      }

      // The delivery to the recipient is in the patient's access log.
      await until(() => harness.audit.depth === 0, "the audit flush");
      const rows = await harness.db.query<{ viewer: string; what: string; rule: string; channel: string }>(
        `SELECT viewer, what, rule, channel FROM ${harness.db.gateway}.audit_log WHERE channel = 'subscription' ORDER BY id`,
      );
      expect(rows[0]).toEqual({
        viewer: world.alertRecipient.address,
        what: "alerts",
        rule: "alert-recipient",
        channel: "subscription",
      });
    } finally {
      await Promise.all([recipient, patient, stranger, insurer].map((subscription) => subscription.stop()));
      await until(() => harness.gateway.liveSubscriptions() === 0, "the subscriptions to end");
    }
  });

  test("behavior: recordAdded reaches READ_RECORDS grantees and the patient, and not the others", async () => {
    const insurer = subscribe(world.insurer.token, recordQuery);
    const patient = subscribe(world.patient.token, recordQuery);
    const recipient = subscribe(world.alertRecipient.token, recordQuery);
    const revoked = subscribe(world.revokedDoctor.token, recordQuery);
    try {
      await until(() => harness.gateway.liveSubscriptions() === 4, "four subscriptions");
      const record = await harness.fixtures.record({
        patient: world.patient.address,
        author: world.grantedDoctor.address,
        type: 2,
        block: 1100,
      });
      await until(() => insurer.received.length === 1 && patient.received.length === 1, "the record");
      expect(insurer.received[0]!.data!.recordAdded).toEqual({
        id: record.eventId,
        recordId: record.recordId,
        patient: world.patient.address,
        author: world.grantedDoctor.address,
        typeCode: 2,
        version: 1,
        previousRecordId: null,
        retracted: false,
      });
      // A retraction (the block was orphaned) reaches the same viewers, flagged.
      await harness.fixtures.retract(record.eventId);
      await until(() => insurer.received.length === 2, "the retraction");
      expect(insurer.received[1]!.data!.recordAdded).toMatchObject({ id: record.eventId, retracted: true });
      expect(recipient.received).toEqual([]);
      expect(revoked.received).toEqual([]);
    } finally {
      await Promise.all([insurer, patient, recipient, revoked].map((subscription) => subscription.stop()));
      await until(() => harness.gateway.liveSubscriptions() === 0, "the subscriptions to end");
    }
  });

  test("behavior: a record is decided as of its place in the log: a grant that came after it does not reach back", async () => {
    // A doctor granted READ_RECORDS at block 5000, after the first record (block 4000), before the second.
    const doctor = newAccount();
    await harness.fixtures.doctor(doctor.address);
    await harness.fixtures.grant({
      patient: world.patient.address,
      grantee: doctor.address,
      scopes: 1,
      block: 5000,
    });
    const late = subscribe(await harness.signIn(doctor), recordQuery);
    try {
      await until(() => harness.gateway.liveSubscriptions() === 1, "the subscription");
      const record = (block: number) =>
        harness.fixtures.record({
          patient: world.patient.address,
          author: world.grantedDoctor.address,
          type: 2,
          block,
        });
      await record(4000);
      const after = await record(6000);
      await until(() => late.received.length === 1, "the record after the grant");
      expect(late.received.map((message) => message.data!.recordAdded!.id)).toEqual([after.eventId]);
    } finally {
      await late.stop();
      await until(() => harness.gateway.liveSubscriptions() === 0, "the subscription to end");
    }
  });

  test("error: subscriptions over HTTP and queries over the socket are refused", async () => {
    const http = await harness.query(alertQuery, { token: world.patient.token });
    expect(http.status).toBe(400);
    expect(http.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    const client = createClient({
      url: harness.gateway.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${world.patient.token}` },
      retryAttempts: 0,
    });
    try {
      const errors = await new Promise<unknown>((resolve, reject) =>
        client.subscribe(
          { query: "{ me { address } }" },
          { next: () => reject(new Error("a query ran on the socket")), error: resolve, complete: () => {} },
        ),
      );
      expect(errors).toMatchObject([{ extensions: { code: "BAD_USER_INPUT" } }]);
    } finally {
      await client.dispose();
    }
  });

  test("error: connections without a valid token are refused", async () => {
    for (const token of [null, "not-a-token"]) {
      const anonymous = subscribe(token, alertQuery);
      await until(() => anonymous.closed.code !== undefined, "the refusal");
      expect(anonymous.closed.code).toBe(4403);
      await anonymous.stop();
    }
  });
});
