import { randomUUID } from "node:crypto";
import { chainClock } from "@carechain/common";
import { hex32 } from "@carechain/indexer/testing";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { createTestGateway, lower, newAccount, type TestGateway, until } from "../testing/index.ts";
import { encodeEventCursor } from "./cursor.ts";

// The pull API (Query.events) and the resumable subscription (Subscription.events) over the projector's
// committed event feed, on real PostgreSQL; events are written by the projector's applyBatch (fixtures).

let harness: TestGateway;

beforeAll(async () => {
  harness = await createTestGateway({ subscriptions: true });
  await harness.gateway.subscriptionsReady;
});

afterAll(async () => {
  await harness?.stop();
});

type Node = { id: string; type: string; cursor: string; patient: string; data: Record<string, unknown> };
type Page = {
  events: {
    edges: { cursor: string; node: Node }[];
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
};

const eventsQuery = `query ($after: String, $first: Int, $types: [EventType!], $patients: [Address!]) {
  events(after: $after, first: $first, types: $types, patients: $patients) {
    edges { cursor node { id type cursor patient data } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function page(token: string | null, variables: Record<string, unknown> = {}) {
  return harness.query<Page>(eventsQuery, { token, variables });
}

/** Every page after `after`, `first` at a time: the ids, and the cursor to continue from. */
async function pullAll(token: string, variables: Record<string, unknown> = {}, first = 2) {
  const ids: string[] = [];
  let after = variables.after ?? null;
  for (let pages = 0; pages < 100; pages++) {
    const { data, errors } = await page(token, { ...variables, after, first });
    expect(errors).toBeUndefined();
    ids.push(...data!.events.edges.map((edge) => edge.node.id));
    after = data!.events.pageInfo.endCursor;
    if (!data!.events.pageInfo.hasNextPage) return { ids, endCursor: after as string };
  }
  throw new Error("more than 100 pages");
}

/** A fresh patient and a fresh verified doctor, registered, with tokens. */
async function people() {
  const patient = newAccount();
  const doctor = newAccount();
  const p = await harness.fixtures.patient(patient.address, { block: 1 });
  const d = await harness.fixtures.doctor(doctor.address, { block: 2 });
  const [patientToken, doctorToken] = await Promise.all([harness.signIn(patient), harness.signIn(doctor)]);
  return { patient: p, doctor: d, patientToken, doctorToken };
}

const record = (patient: string, author: string, block: number) =>
  harness.fixtures.record({ patient: lower(patient), author: lower(author), type: 1, block });

function subscribe(token: string, variables: Record<string, unknown>) {
  const received: Node[] = [];
  const errors: unknown[] = [];
  const client = createClient({
    url: harness.gateway.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  const dispose = client.subscribe(
    {
      query: `subscription ($after: String, $types: [EventType!]) {
        events(after: $after, types: $types) { id type cursor patient data }
      }`,
      variables,
    },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        else received.push((value.data as { events: Node }).events);
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

describe("Query.events", () => {
  test("default: paging with cursors sees every event the viewer may see once, in feed order", async () => {
    const { patient, doctor, patientToken, doctorToken } = await people();
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 100 });
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await record(patient, doctor, 110 + i));
    const amended = await harness.fixtures.amend(records[0]!, { block: 120 });

    const expected = [...records, amended].map((r) => r.eventId);
    const forDoctor = await pullAll(doctorToken, {}, 2);
    // The doctor: its grant, then the records (the patient's registration is not an event type).
    expect(forDoctor.ids).toEqual([forDoctor.ids[0], ...expected]);
    expect(forDoctor.ids[0]).toMatch(/^\d+:0x[0-9a-f]{64}:\d+$/);
    // The patient: the same, all its own; page sizes do not change what is seen.
    expect((await pullAll(patientToken, {}, 3)).ids).toEqual(forDoctor.ids);
    expect((await pullAll(patientToken, {}, 100)).ids).toEqual(forDoctor.ids);

    // Types and shapes: the grant, an addition, an amendment.
    const { data } = await page(doctorToken, { first: 10 });
    const nodes = data!.events.edges.map((edge) => edge.node);
    expect(nodes[0]).toMatchObject({
      type: "GRANT_GIVEN",
      patient,
      data: { grantee: doctor, scopes: ["READ_RECORDS"], expiresAt: null },
    });
    expect(nodes[1]).toMatchObject({ type: "RECORD_ADDED", data: { version: 1, previousRecordId: null } });
    expect(nodes.at(-1)).toMatchObject({
      type: "RECORD_AMENDED",
      data: { version: 2, previousRecordId: records[0]!.recordId, rootRecordId: records[0]!.recordId },
    });
    // Edge cursors resume after their edge.
    const third = data!.events.edges[2]!;
    const resumed = await pullAll(doctorToken, { after: third.cursor }, 10);
    expect(resumed.ids).toEqual(forDoctor.ids.slice(3));
    // Nothing new: the end cursor gives an empty page, and is still a cursor to poll with.
    const empty = await page(doctorToken, { after: forDoctor.endCursor });
    expect(empty.data!.events.edges).toEqual([]);
    expect(empty.data!.events.pageInfo.endCursor).toEqual(expect.any(String));
    // A type filter.
    const amendments = await pullAll(doctorToken, { types: ["RECORD_AMENDED"] });
    expect(amendments.ids).toEqual([amended.eventId]);
  });

  test("behavior: every delivered event is in the patient's access log, once", async () => {
    const { patient, doctor, doctorToken } = await people();
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 100 });
    await record(patient, doctor, 101);
    await record(patient, doctor, 102);
    const { ids } = await pullAll(doctorToken, {}, 10);
    expect(ids).toHaveLength(3);
    await until(() => harness.audit.depth === 0, "the audit flush");
    const rows = await harness.db.query<{ what: string; rule: string; request_id: string }>(
      `SELECT what, rule, request_id FROM ${harness.db.gateway}.audit_log
        WHERE viewer = $1 AND patient = $2 ORDER BY id`,
      [doctor, patient],
    );
    expect(rows.map((row) => [row.what, row.rule])).toEqual([
      ["grants", "party"],
      ["records", "grant"],
      ["records", "grant"],
    ]);
    // Each names its event's place in the chain.
    expect(new Set(rows.map((row) => row.request_id.split(":").at(-1))).size).toBe(3);
  });

  test("behavior: a revoked grant stops the events after the revocation", async () => {
    const { patient, doctor, doctorToken } = await people();
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 100 });
    const before = await record(patient, doctor, 101);
    const first = await pullAll(doctorToken);
    expect(first.ids.slice(1)).toEqual([before.eventId]);

    await harness.fixtures.revoke(patient, doctor, 102);
    const after = await record(patient, doctor, 103);
    const next = await pullAll(doctorToken, { after: first.endCursor });
    // Told of its revocation (it concerns it), and of nothing after it.
    expect(next.ids).toHaveLength(1);
    const { data } = await page(doctorToken, { after: first.endCursor });
    expect(data!.events.edges[0]!.node).toMatchObject({ type: "GRANT_REVOKED", data: { grantee: doctor } });
    expect(next.ids).not.toContain(after.eventId);
  });

  test("behavior: a grant given after an event does not reach back to it", async () => {
    const { patient, doctor, doctorToken } = await people();
    const earlier = await record(patient, patient, 100);
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 200 });
    const later = await record(patient, patient, 201);
    const { ids } = await pullAll(doctorToken);
    expect(ids).not.toContain(earlier.eventId);
    expect(ids.slice(1)).toEqual([later.eventId]);
  });

  test("behavior: a stranger sees nothing, and its cursor still moves on", async () => {
    const { patient } = await people();
    await record(patient, patient, 100);
    const stranger = newAccount();
    await harness.fixtures.doctor(stranger.address, { block: 3 });
    const token = await harness.signIn(stranger);
    const { data, errors } = await page(token, { first: 100, patients: [patient] });
    expect(errors).toBeUndefined();
    expect(data!.events.edges).toEqual([]);
    expect(data!.events.pageInfo.hasNextPage).toBe(false);
    expect(data!.events.pageInfo.endCursor).toEqual(expect.any(String));
    expect((await pullAll(token)).ids).toEqual([]);
  });

  test("error: an invalid, tampered or foreign cursor, a bad `first`, or no sign-in is refused with a code", async () => {
    const { doctorToken } = await people();
    const code = async (variables: Record<string, unknown>, token: string | null = doctorToken) => {
      const { errors } = await page(token, variables);
      return errors?.map((error) => error.extensions?.code);
    };
    expect(await code({ after: "nope" })).toEqual(["INVALID_CURSOR"]);
    const { data } = await page(doctorToken);
    const valid = data!.events.pageInfo.endCursor;
    const tampered = Buffer.from(
      Buffer.from(valid, "base64url")
        .toString()
        .replace(/\.\d+$/, ".x"),
    ).toString("base64url");
    expect(await code({ after: tampered })).toEqual(["INVALID_CURSOR"]);
    // A cursor from another generation of the feed (a rebuild numbers it afresh).
    expect(await code({ after: encodeEventCursor({ origin: "0".repeat(12), seq: 1n }) })).toEqual([
      "CURSOR_EXPIRED",
    ]);
    expect(await code({ first: -1 })).toEqual(["BAD_USER_INPUT"]);
    expect(await code({ first: 100_000 })).toEqual(["BAD_USER_INPUT"]);
    expect(await code({}, null)).toEqual(["FORBIDDEN"]);
  });
});

describe("Query.events: what time makes (the projector's chain clock)", () => {
  /** A chain clock at `block` (a partition of one: it speaks for every patient), as ingest publishes it. */
  const clockAt = (block: number) =>
    chainClock(
      {
        chainId: 31337,
        number: block,
        hash: hex32(`clock:${randomUUID()}`),
        timestamp: harness.fixtures.blockTime(block).getTime() / 1000,
      },
      { partition: 0, partitions: 1 },
      0,
    );

  test("behavior: GRANT_EXPIRED reaches the grantee and the patient, once, and nobody else", async () => {
    const { patient, doctor, patientToken, doctorToken } = await people();
    const stranger = newAccount();
    await harness.fixtures.doctor(stranger.address, { block: 3 });
    const strangerToken = await harness.signIn(stranger);
    const expiresAt = harness.fixtures.blockTime(150);
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 100, expiresAt });
    await harness.fixtures.apply(clockAt(140)); // before the expiry: nothing
    await harness.fixtures.apply(clockAt(160));
    await harness.fixtures.apply(clockAt(170)); // announced already
    const expired = { type: "GRANT_EXPIRED", data: { grantee: doctor, expiresAt: expiresAt.toISOString() } };
    for (const token of [doctorToken, patientToken]) {
      const { data } = await page(token, { types: ["GRANT_EXPIRED"], patients: [patient] });
      expect(data!.events.edges.map((edge) => edge.node)).toMatchObject([expired]);
    }
    const { data } = await page(strangerToken, { types: ["GRANT_EXPIRED"] });
    expect(data!.events.edges).toEqual([]);
  });

  test("behavior: an alert is PROVISIONAL, then ALERT_FINAL, to its recipients and the patient only", async () => {
    const { patient, doctor, patientToken, doctorToken } = await people();
    const stranger = newAccount();
    await harness.fixtures.doctor(stranger.address, { block: 3 });
    const strangerToken = await harness.signIn(stranger);
    await harness.fixtures.alertRecipients(patient, [doctor], 205);
    const alert = await harness.fixtures.alert({
      patient,
      measuredAt: harness.fixtures.blockTime(209),
      systolic: 190,
      diastolic: 100,
      recipients: [doctor],
      block: 210,
    });
    await harness.fixtures.apply(clockAt(221)); // 11 blocks on top: not yet (the default depth is 12)
    await harness.fixtures.apply(clockAt(222));
    const types = ["ALERT_RAISED", "ALERT_FINAL"];
    for (const token of [doctorToken, patientToken]) {
      const { data } = await page(token, { types, patients: [patient] });
      expect(data!.events.edges.map((edge) => edge.node)).toMatchObject([
        { id: alert.eventId, type: "ALERT_RAISED", data: { finality: "PROVISIONAL" } },
        { type: "ALERT_FINAL", data: { alertId: alert.eventId, systolic: 190, recipients: [doctor] } },
      ]);
    }
    const { data } = await page(strangerToken, { types });
    expect(data!.events.edges).toEqual([]);
  });
});

describe("Subscription.events", () => {
  test("behavior: resumed with a cursor, it gets exactly what was missed, then live events, without gap or duplicate", async () => {
    const { patient, doctor, doctorToken } = await people();
    await harness.fixtures.grant({ patient, grantee: doctor, scopes: 1, block: 100 });
    const live = harness.gateway.liveSubscriptions();

    // Without a cursor: live from now (the grant before it is not replayed).
    const first = subscribe(doctorToken, {});
    await until(() => harness.gateway.liveSubscriptions() === live + 1, "the first subscription");
    const r1 = await record(patient, doctor, 101);
    await until(() => first.received.length === 1, "the first record");
    expect(first.received.map((event) => event.id)).toEqual([r1.eventId]);
    const cursor = first.received[0]!.cursor;
    await first.stop();
    await until(() => harness.gateway.liveSubscriptions() === live, "the first subscription to end");

    // Disconnected (say, renewing its token): two records.
    const missed = [await record(patient, doctor, 102), await record(patient, doctor, 103)];

    // Resumed while more keep coming: the replay and the live events meet without gap or duplicate.
    const second = subscribe(doctorToken, { after: cursor });
    const during: Promise<{ eventId: string }[]> = (async () => {
      const made = [];
      for (let i = 0; i < 6; i++) made.push(await record(patient, doctor, 104 + i));
      return made;
    })();
    const concurrent = await during;
    await until(() => harness.gateway.liveSubscriptions() === live + 1, "the second subscription");
    const r9 = await record(patient, doctor, 120);
    const expected = [...missed, ...concurrent, r9].map((r) => r.eventId);
    try {
      await until(() => second.received.length >= expected.length, "the missed and live records");
      // Nothing more arrives (a duplicate would come right behind).
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(second.errors).toEqual([]);
      expect(second.received.map((event) => event.id)).toEqual(expected);
    } finally {
      await second.stop();
    }

    // A page's end cursor resumes a subscription as well (one cursor for both).
    const { endCursor } = await pullAll(doctorToken, { after: cursor }, 50);
    const third = subscribe(doctorToken, { after: endCursor });
    try {
      await until(() => harness.gateway.liveSubscriptions() === live + 1, "the third subscription");
      const r10 = await record(patient, doctor, 121);
      await until(() => third.received.length === 1, "the next record");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(third.received.map((event) => event.id)).toEqual([r10.eventId]);
    } finally {
      await third.stop();
    }
  });

  test("error: an invalid or foreign cursor ends the subscription with its code", async () => {
    const { doctorToken } = await people();
    for (const [after, code] of [
      ["garbage", "INVALID_CURSOR"],
      [encodeEventCursor({ origin: "0".repeat(12), seq: 1n }), "CURSOR_EXPIRED"],
    ] as const) {
      const subscription = subscribe(doctorToken, { after });
      try {
        await until(() => subscription.errors.length > 0, `the ${code} error`);
        expect(JSON.stringify(subscription.errors)).toContain(code);
        expect(subscription.received).toEqual([]);
      } finally {
        await subscription.stop();
      }
    }
  });
});
