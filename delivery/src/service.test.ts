import { verifyWebhook } from "@carechain/consumer";
import { lower, newAccount } from "@carechain/gateway/testing";
import { pauseSubscription, resumeSubscription } from "@carechain/gateway/webhooks";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { parseRetrySchedule } from "./config.ts";
import {
  createHarness,
  deliveries,
  eventually,
  type Harness,
  type Receiver,
  receiver,
  subscribe,
  world,
} from "./testing.ts";

// The delivery service on the real PostgreSQL of the vitest global setup: events written by the projector's
// own applyBatch (the gateway's fixtures), subscriptions by the gateway's store, receivers real HTTP servers
// on 127.0.0.1, services started in process (main.test.ts runs the entry point as a process).

let harness: Harness;
const receivers: Receiver[] = [];

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  await harness.close();
  for (const r of receivers.splice(0)) await r.down().catch(() => {});
});

async function newReceiver(): Promise<Receiver> {
  const r = await receiver();
  receivers.push(r);
  return r;
}

const record = (patient: string, author: string, block: number) =>
  harness.fixtures.record({ patient: lower(patient), author: lower(author), type: 1, block });

describe("delivery", () => {
  test("default: an admitted event is POSTed signed, as the public event, recorded and audited", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const other = await harness.fixtures.patient(lower("0x00000000000000000000000000000000000000e1"));
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    harness.start();
    const added = await record(patient, doctor, 110);
    await record(other, doctor, 111); // no grant: never decided in, never sent

    await eventually(() => hook.received.length === 1, "the webhook");
    const [webhook] = hook.received;
    expect(() => verifyWebhook(subscription.secret, webhook!.headers, webhook!.body)).not.toThrow();
    expect(webhook!.id).toBe(added.eventId);
    expect(JSON.parse(webhook!.body)).toMatchObject({
      id: added.eventId,
      type: "RECORD_ADDED",
      patient,
      retracted: false,
      schemaVersion: 1,
      data: { recordId: added.recordId, version: 1 },
    });
    await eventually(
      async () => (await deliveries(harness.db, subscription.id))[0]?.status === "delivered",
      "the outbox row delivered",
    );
    const rows = await deliveries(harness.db, subscription.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ event_id: added.eventId, attempts: 1 });
    const attempts = await harness.db.query<{ status_code: number; error: string | null }>(
      `SELECT status_code, error FROM ${harness.db.gateway}.webhook_attempts WHERE subscription_id = $1`,
      [subscription.id],
    );
    expect(attempts).toEqual([{ status_code: 200, error: null }]);
    // In the patient's access log, channel webhook, under the subscription.
    const audit = await harness.db.query<{ viewer: string; patient: string; request_id: string }>(
      `SELECT viewer, patient, request_id FROM ${harness.db.gateway}.audit_log WHERE channel = 'webhook'`,
    );
    expect(audit).toEqual([
      {
        viewer: organization,
        patient,
        request_id: expect.stringMatching(new RegExp(`^webhook:${subscription.id}:`)),
      },
    ]);
  });

  test("behavior: a receiver down for a while gets every event after it comes back, in chain order per patient", async () => {
    const { organization, doctor, patients } = await world(harness.fixtures, { patients: 3 });
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    await hook.down();
    harness.start({
      retrySchedule: parseRetrySchedule("50ms,100ms,200ms,300ms,300ms,300ms,300ms,300ms,300ms,300ms"),
    });
    const expected: string[] = [];
    for (let i = 0; i < 5; i++)
      for (const patient of patients) expected.push((await record(patient, doctor, 110 + i)).eventId);
    // Down: attempts fail (connection refused) and are retried.
    await eventually(
      async () => (await deliveries(harness.db, subscription.id)).some((row) => row.attempts >= 2),
      "failed attempts while the receiver is down",
    );
    expect(hook.received).toHaveLength(0);
    await hook.up();

    await eventually(
      () => new Set(hook.ids).size === expected.length,
      "every event after the receiver is back",
    );
    expect(new Set(hook.ids)).toEqual(new Set(expected));
    for (const patient of patients) {
      const sent = hook.received.filter((r) => JSON.parse(r.body).patient === patient).map((r) => r.id);
      expect(sent).toEqual(expected.filter((id) => sent.includes(id))); // chain order
      expect(sent).toHaveLength(5);
    }
  });

  test("behavior: a slow receiver does not delay another subscription", async () => {
    const { organization, doctor, patients } = await world(harness.fixtures, { patients: 2 });
    const slow = await newReceiver();
    slow.delayMs = 1_000;
    const fast = await newReceiver();
    await subscribe(harness.db, { owner: organization, url: slow.url });
    await subscribe(harness.db, { owner: organization, url: fast.url });
    harness.start({ senders: 4, timeoutMs: 5_000 });
    for (let i = 0; i < 5; i++) for (const patient of patients) await record(patient, doctor, 110 + i);

    await eventually(() => fast.received.length === 10, "every event at the fast receiver");
    // The slow one has taken at most a few of its ten by then (one a second per patient).
    expect(slow.received.length).toBeLessThan(5);
  });

  test("behavior: a revocation withholds what is still pending and stops what follows", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    hook.status = 503;
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    harness.start({
      retrySchedule: parseRetrySchedule("100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms"),
    });
    await record(patient, doctor, 110);
    await record(patient, doctor, 111);
    await eventually(
      async () => (await deliveries(harness.db, subscription.id)).some((row) => row.attempts >= 1),
      "a refused attempt",
    );
    await harness.fixtures.revoke(patient, organization, 500);
    await record(patient, doctor, 510); // after the revocation: not admitted
    hook.status = 200;

    await eventually(
      async () => (await deliveries(harness.db, subscription.id)).every((row) => row.status === "withheld"),
      "both pending deliveries withheld",
    );
    // Let the filler see the last record too: it never enters the outbox.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await deliveries(harness.db, subscription.id)).toHaveLength(2);
    expect(hook.received).toHaveLength(0);
  });

  test("behavior: retries used up -> the subscription is failing, saying why; resuming delivers", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    hook.status = 503;
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    harness.start({ retrySchedule: parseRetrySchedule("50ms,100ms") });
    const added = await record(patient, doctor, 110);
    const second = await record(patient, doctor, 111);

    const failing = async () =>
      (
        await harness.db.query<{ status: string; failure_reason: string | null }>(
          `SELECT status, failure_reason FROM ${harness.db.gateway}.webhook_subscriptions WHERE id = $1`,
          [subscription.id],
        )
      )[0]!;
    await eventually(async () => (await failing()).status === "failing", "the subscription failing");
    expect((await failing()).failure_reason).toMatch(
      new RegExp(`^event ${added.eventId} not accepted after 3 attempts over \\d+s: last 503$`),
    );
    const rows = await deliveries(harness.db, subscription.id);
    expect(rows.map((row) => row.status)).toEqual(["failed", "pending"]); // the second waits its turn
    expect(rows[0]!.attempts).toBe(3);

    hook.status = 200;
    await resumeSubscription(harness.db, organization, subscription.id);
    await eventually(() => hook.received.length === 2, "both events after the resume");
    expect(hook.ids).toEqual([added.eventId, second.eventId]);
  });

  test("behavior: a retraction goes only to subscriptions that received the original", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const early = await newReceiver();
    const late = await newReceiver();
    await subscribe(harness.db, { owner: organization, url: early.url });
    harness.start();
    const added = await record(patient, doctor, 110);
    await eventually(() => early.received.length === 1, "the original");
    await subscribe(harness.db, { owner: organization, url: late.url }); // after the original
    await harness.fixtures.retract(added.eventId);
    const after = await record(patient, doctor, 111);

    await eventually(() => early.received.length === 3 && late.received.length === 1, "the retraction");
    expect(early.ids).toEqual([added.eventId, `${added.eventId}:retracted`, after.eventId]);
    expect(JSON.parse(early.received[1]!.body)).toMatchObject({ retracted: true, type: "RECORD_ADDED" });
    expect(late.ids).toEqual([after.eventId]);
  });
});

describe("subscription states and the URL rule", () => {
  test("behavior: paused, the outbox fills and nothing is sent; resumed, everything goes", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    await pauseSubscription(harness.db, organization, subscription.id);
    harness.start();
    const expected = [
      (await record(patient, doctor, 110)).eventId,
      (await record(patient, doctor, 111)).eventId,
    ];
    await eventually(
      async () => (await deliveries(harness.db, subscription.id)).length === 2,
      "the outbox filled",
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.received).toHaveLength(0);

    await resumeSubscription(harness.db, organization, subscription.id);
    await eventually(() => hook.received.length === 2, "both events after the resume");
    expect(hook.ids).toEqual(expected);
  });

  test("behavior: the event log rebuilt under a subscription -> failing, saying why", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    // As if it had been filled from another generation of the feed.
    await harness.db.query(
      `UPDATE ${harness.db.gateway}.webhook_subscriptions SET feed_origin = 'ffffffffffff' WHERE id = $1`,
      [subscription.id],
    );
    harness.start();
    await record(patient, doctor, 110);
    const state = async () =>
      (
        await harness.db.query<{ status: string; failure_reason: string | null }>(
          `SELECT status, failure_reason FROM ${harness.db.gateway}.webhook_subscriptions WHERE id = $1`,
          [subscription.id],
        )
      )[0]!;
    await eventually(async () => (await state()).status === "failing", "the subscription failing");
    expect((await state()).failure_reason).toMatch(
      /^the event log was rebuilt \(generation ffffffffffff -> [0-9a-f]{12}\)/,
    );
    expect(await deliveries(harness.db, subscription.id)).toHaveLength(0);
    expect(hook.received).toHaveLength(0);
  });

  test("behavior: health says unhealthy when the feed advances and no outbox does", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    // Held by an instance that no longer fills it (its lease runs for an hour).
    await harness.db.query(
      `UPDATE ${harness.db.gateway}.webhook_subscriptions
          SET lease_owner = 'gone', lease_until = now() + interval '1 hour' WHERE id = $1`,
      [subscription.id],
    );
    const service = harness.start({ stallAfterMs: 1_000, statsIntervalMs: 100 });
    await eventually(async () => (await service.checks.filler!()).ok, "healthy while nothing is behind");
    await record(patient, doctor, 110);
    await eventually(async () => !(await service.checks.filler!()).ok, "unhealthy: stalled");
    expect((await service.checks.filler!()).details).toMatchObject({ lagSeq: "1" });
    expect((await service.checks.database!()).ok).toBe(true);
    expect(hook.received).toHaveLength(0);
  });

  test("behavior: delivered and withheld rows past the retention are deleted; pending, failed and recent ones stay", async () => {
    const { organization } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    await harness.db.query(
      `UPDATE ${harness.db.gateway}.webhook_subscriptions SET status = 'paused' WHERE id = $1`,
      [subscription.id],
    );
    const rows: [number, string, number][] = [
      [1, "delivered", 40],
      [2, "withheld", 40],
      [3, "failed", 40],
      [4, "pending", 40],
      [5, "delivered", 5],
    ];
    for (const [seq, status, daysAgo] of rows)
      await harness.db.query(
        `INSERT INTO ${harness.db.gateway}.webhook_deliveries
           (subscription_id, seq, event_id, event_type, patient, body, status, created_at)
         VALUES ($1, $2, $3, 'RECORD_ADDED', '0x${"1".repeat(40)}', '{}', $4, now() - $5 * interval '1 day')`,
        [subscription.id, seq, `e${seq}`, status, daysAgo],
      );
    harness.start({ retentionDays: 30, pruneIntervalMs: 0, statsIntervalMs: 100 });
    const left = async () =>
      (
        await harness.db.query<{ seq: string }>(
          `SELECT seq::text FROM ${harness.db.gateway}.webhook_deliveries WHERE subscription_id = $1 ORDER BY seq`,
          [subscription.id],
        )
      ).map((row) => Number(row.seq));
    await eventually(async () => (await left()).length === 3, "the old settled rows deleted");
    expect(await left()).toEqual([3, 4, 5]);
  });

  test("error: without DELIVERY_ALLOW_PRIVATE_URLS a receiver on a private address is refused at send time", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    // Allowed by the gateway's operator when created, not by the delivery service's.
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    harness.start({ allowPrivateUrls: false });
    await record(patient, doctor, 110);
    await eventually(
      async () => (await deliveries(harness.db, subscription.id)).some((row) => row.attempts >= 1),
      "a refused attempt",
    );
    const [attempt] = await harness.db.query<{ status_code: number | null; error: string }>(
      `SELECT status_code, error FROM ${harness.db.gateway}.webhook_attempts WHERE subscription_id = $1`,
      [subscription.id],
    );
    expect(attempt).toMatchObject({
      status_code: null,
      error: expect.stringMatching(/private address \(127\.0\.0\.1\)/),
    });
    expect(hook.received).toHaveLength(0);
  });
});

describe("crashes and instances", () => {
  test("behavior: a crash between the decisions and the outbox commit loses and duplicates nothing", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    let crashes = 0;
    const first = harness.start({
      beforeFillCommit: () => {
        crashes++;
        throw new Error("crash before the outbox commit");
      },
    });
    const expected: string[] = [];
    for (let i = 0; i < 6; i++) expected.push((await record(patient, doctor, 110 + i)).eventId);
    await eventually(() => crashes > 0, "the crash");
    await first.stop();
    expect(await deliveries(harness.db, subscription.id)).toHaveLength(0);

    harness.start({ leaseMs: 1_000 }); // the first one's lease runs out, then it is taken over
    await eventually(() => hook.received.length === 6, "every event from the second instance");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.ids).toEqual(expected);
  });

  test("behavior: a sender that dies after the POST and before recording it leaves the delivery pending; it is sent again with the same id", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    let posts = 0;
    const first = harness.start({
      afterPost: () => {
        if (++posts === 2) throw new Error("crash after the POST");
      },
      senders: 1,
    });
    const expected: string[] = [];
    for (let i = 0; i < 4; i++) expected.push((await record(patient, doctor, 110 + i)).eventId);
    await eventually(() => posts >= 2, "the crash");
    await first.stop();
    harness.start();

    // Every event's delivery is in the outbox (the fill may still be behind the last event) and delivered.
    await eventually(async () => {
      const rows = await deliveries(harness.db, subscription.id);
      return rows.length >= 4 && rows.every((row) => row.status === "delivered");
    }, "every delivery recorded");
    expect(await deliveries(harness.db, subscription.id)).toHaveLength(4);
    // At least once: the unrecorded one again (same webhook-id, dropped by the receiver), nothing missing.
    expect(new Set(hook.ids)).toEqual(new Set(expected));
    expect(hook.ids.filter((id) => id === expected[1])).toHaveLength(2);
  });

  test("behavior: several instances share the subscriptions without duplicates", async () => {
    const { organization, doctor, patients } = await world(harness.fixtures, { patients: 2 });
    const hooks: Receiver[] = [];
    for (let i = 0; i < 6; i++) {
      const hook = await newReceiver();
      await subscribe(harness.db, { owner: organization, url: hook.url });
      hooks.push(hook);
    }
    const services = [harness.start(), harness.start(), harness.start()];
    const expected: string[] = [];
    for (let i = 0; i < 10; i++)
      for (const patient of patients) expected.push((await record(patient, doctor, 110 + i)).eventId);

    await eventually(
      () => hooks.every((hook) => hook.received.length >= expected.length),
      "every event everywhere",
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const hook of hooks) {
      expect(hook.ids).toHaveLength(expected.length); // exactly once
      expect(new Set(hook.ids)).toEqual(new Set(expected));
    }
    const filled = await Promise.all(
      services.map(async (s) => (await s.metrics.filled.get()).values[0]?.value ?? 0),
    );
    expect(filled.reduce((a, b) => a + b, 0)).toBe(expected.length * hooks.length);
  });
});

describe("batches", () => {
  test("behavior: a backlog is decided and sent in batches: fewer fact, claim and record statements than deliveries; every delivery audited on its own", async () => {
    const { doctor, patients } = await world(harness.fixtures, { patients: 2 });
    const hooks: Receiver[] = [];
    for (let i = 0; i < 3; i++) {
      const organization = await harness.fixtures.organization(newAccount().address, { kind: 2, block: 3 });
      for (const patient of patients)
        await harness.fixtures.grant({ patient, grantee: organization, scopes: 7, block: 100 });
      const hook = await newReceiver();
      await subscribe(harness.db, { owner: organization, url: hook.url });
      hooks.push(hook);
    }
    for (let i = 0; i < 8; i++) for (const patient of patients) await record(patient, doctor, 110 + i);
    const deliveriesCount = 3 * 16;
    // Statements counted from here on: the service's only (the fixtures are written).
    const query = vi.spyOn(pg.Pool.prototype, "query");
    const statements = (start: RegExp) =>
      query.mock.calls.filter(([text]) => start.test(String(typeof text === "string" ? text : ""))).length;
    harness.start({ senders: 8 });
    await eventually(() => hooks.every((hook) => hook.received.length === 16), "every delivery");
    const facts = statements(/^\s*SELECT k\.i::text AS i/);
    const claims = statements(/^\s*WITH busy AS/);
    const records = statements(
      /^\s*WITH input AS \(\s*SELECT \* FROM unnest\(\$1::text\[\], \$2::bigint\[\], \$3::timestamptz/,
    );
    query.mockRestore();
    // One by one, each delivery cost two fact statements to decide, one to decide again, a claim, a record.
    expect(facts).toBeGreaterThan(0);
    expect(facts).toBeLessThan(deliveriesCount);
    expect(claims).toBeLessThan(deliveriesCount);
    expect(records).toBeLessThan(deliveriesCount);
    const audit = await harness.db.query<{ request_id: string }>(
      `SELECT request_id FROM ${harness.db.gateway}.audit_log WHERE channel = 'webhook'`,
    );
    expect(new Set(audit.map((row) => row.request_id)).size).toBe(deliveriesCount);
  });

  test("behavior: a revocation and a new grant within one page: each event decided as of its own place", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    await subscribe(harness.db, { owner: organization, url: hook.url });
    const before = await record(patient, doctor, 110);
    await harness.fixtures.revoke(patient, organization, 500);
    await record(patient, doctor, 510); // while revoked: never admitted
    await harness.fixtures.grant({ patient, grantee: organization, scopes: 7, block: 600 });
    const after = await record(patient, doctor, 610);
    harness.start(); // all of it in the first page

    await eventually(() => hook.received.length === 2, "the two events allowed as of their place");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.ids).toEqual([before.eventId, after.eventId]);
  });

  test("behavior: a burst the planner's statistics have not seen drains, and a dead receiver's backlog holds nobody up", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    const hook = await newReceiver();
    const live = await subscribe(harness.db, { owner: organization, url: hook.url });
    const dead = await subscribe(harness.db, { owner: organization, url: "http://127.0.0.1:9/down" });
    const { gateway } = harness.db;
    // The statistics see an outbox of settled rows and nothing pending (as after a quiet hour).
    await harness.db.query(
      `INSERT INTO ${gateway}.webhook_deliveries (subscription_id, seq, event_id, event_type, patient, body, status)
       SELECT $1, 2000000 + i, 'settled-' || i, 'RECORD_ADDED', '0x' || lpad(to_hex(i % 100), 40, '0'), '{}', 'delivered'
         FROM generate_series(1, 20000) AS i`,
      [live.id],
    );
    await harness.db.query(`ANALYZE ${gateway}.webhook_deliveries`);
    const burst = (id: string, patients: number, head: string) =>
      harness.db.query(
        `INSERT INTO ${gateway}.webhook_deliveries
           (subscription_id, seq, event_id, event_type, patient, body, next_attempt_at)
         SELECT $1, 1000000 + i, 'burst-' || i, 'RECORD_ADDED', '0x' || lpad(to_hex(i % $2), 40, '0'), '{}',
                CASE WHEN i < $2 THEN now() + $3::interval ELSE now() END
           FROM generate_series(0, 4999) AS i`,
        [id, patients, head],
      );
    // The dead receiver: every chain's head retried in a day, 4,990 rows due behind them.
    await burst(dead.id, 10, "1 day");
    // The live one: 5,000 rows due, as after an outage (not in the feed: each is withheld, never sent blind).
    await burst(live.id, 100, "0 seconds");
    harness.start({ senders: 256 });

    const pending = async (id: string) =>
      (
        await harness.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${gateway}.webhook_deliveries
            WHERE subscription_id = $1 AND status = 'pending' AND seq BETWEEN 1000000 AND 1004999`,
          [id],
        )
      )[0]!.n;
    // Before the skip scan this took minutes: each claim an anti-join scanning the whole index per due row,
    // the plan chosen for an outbox the statistics thought empty (the bench's 47 s stall).
    await eventually(async () => (await pending(live.id)) === 0, "the burst settled", 60_000);
    const added = await record(patient, doctor, 110);
    await eventually(() => hook.ids.includes(added.eventId), "a new event delivered");
    expect(await pending(dead.id)).toBe(5_000); // its backlog: untouched
  }, 90_000);

  test("behavior: the queue depth counts the rows still to send (pending) and stuck (failed) only", async () => {
    const { organization } = await world(harness.fixtures);
    const hook = await newReceiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    await pauseSubscription(harness.db, organization, subscription.id);
    const rows: [number, string][] = [
      [1, "delivered"],
      [2, "withheld"],
      [3, "failed"],
      [4, "pending"],
      [5, "pending"],
    ];
    for (const [seq, status] of rows)
      await harness.db.query(
        `INSERT INTO ${harness.db.gateway}.webhook_deliveries (subscription_id, seq, event_id, event_type, patient, body, status)
         VALUES ($1, $2, $3, 'RECORD_ADDED', '0x${"1".repeat(40)}', '{}', $4)`,
        [subscription.id, seq, `e${seq}`, status],
      );
    const service = harness.start({ statsIntervalMs: 100 });
    const depth = async () =>
      Object.fromEntries(
        (await service.metrics.queueDepth.get()).values.map((v) => [v.labels.status, v.value]),
      );
    await eventually(async () => (await depth()).pending === 2, "the gauge set");
    expect(await depth()).toEqual({ pending: 2, failed: 1 });
  });
});
