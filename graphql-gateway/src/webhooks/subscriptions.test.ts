import { verifyWebhook } from "@carechain/consumer";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { encodeEventCursor } from "../events/cursor.ts";
import { feedEnd } from "../events/feed-log.ts";
import { createTestGateway, lower, newAccount, type TestGateway, type World } from "../testing/index.ts";

// Private URLs refused (the production rule) in one gateway, allowed (npm start, the tests) in the other.
let harness: TestGateway;
let permissive: TestGateway;
let world: World;

beforeAll(async () => {
  [harness, permissive] = await Promise.all([
    createTestGateway({ webhooks: { allowPrivateUrls: false, maxSubscriptions: 3 } }),
    createTestGateway({ webhooks: { allowPrivateUrls: true } }),
  ]);
  world = await harness.createWorld();
});

afterAll(async () => {
  await Promise.all([harness?.stop(), permissive?.stop()]);
});

/** A fresh organization (kind 2, an insurer) of `on`, signed in with its wallet. */
async function organization(on: TestGateway = harness): Promise<{ address: `0x${string}`; token: string }> {
  const account = newAccount();
  const address = await on.fixtures.organization(lower(account.address), { kind: 2, block: 60 });
  return { address, token: await on.signIn(account) };
}

const publicUrl = "https://1.1.1.1/carechain/hook";

const fields = `id url types patients status failureReason createdAt pending`;

const createMutation = `mutation($input: CreateWebhookSubscriptionInput!) {
  createWebhookSubscription(input: $input) { secret subscription { ${fields} } }
}`;

type Subscription = {
  id: string;
  url: string;
  types: string[];
  patients: string[] | null;
  status: string;
  failureReason: string | null;
  createdAt: string;
  pending: number;
};

async function create(token: string, input: Record<string, unknown>, on: TestGateway = harness) {
  return on.query<{ createWebhookSubscription: { secret: string; subscription: Subscription } }>(
    createMutation,
    {
      token,
      variables: { input },
    },
  );
}

async function createOk(token: string, input: Record<string, unknown>, on: TestGateway = harness) {
  const response = await create(token, input, on);
  expect(response.errors).toBeUndefined();
  return response.data!.createWebhookSubscription;
}

const errorOf = (response: {
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}) => ({
  code: response.errors?.[0]?.extensions?.code,
  message: response.errors?.[0]?.message ?? "",
});

/** Outbox rows as the delivery service writes them, with attempts. */
async function insertDeliveries(
  on: TestGateway,
  subscriptionId: string,
  rows: {
    seq: number;
    eventId: string;
    status: string;
    attempts?: { status: number | null; error?: string }[];
  }[],
) {
  const g = on.db.gateway;
  for (const row of rows) {
    await on.db.query(
      `INSERT INTO ${g}.webhook_deliveries (subscription_id, seq, event_id, event_type, patient, body, status, attempts,
         next_attempt_at, delivered_at)
       VALUES ($1, $2, $3, 'RECORD_ADDED', $4, '{}'::jsonb, $5, $6, now() + interval '1 hour',
         CASE WHEN $5 = 'delivered' THEN now() END)`,
      [subscriptionId, row.seq, row.eventId, world.patient.address, row.status, row.attempts?.length ?? 0],
    );
    for (const [index, attempt] of (row.attempts ?? []).entries()) {
      await on.db.query(
        `INSERT INTO ${g}.webhook_attempts (subscription_id, seq, attempt, started_at, latency_ms, status_code, error)
         VALUES ($1, $2, $3, now(), $4, $5, $6)`,
        [subscriptionId, row.seq, index + 1, 10 + index, attempt.status, attempt.error ?? null],
      );
    }
  }
}

describe("webhook subscriptions", () => {
  test("default: create (secret once, at the feed's end), list, get, pause, resume, delete", async () => {
    const org = await organization();
    const created = await createOk(org.token, {
      url: publicUrl,
      types: ["RECORD_ADDED", "ALERT_RAISED", "RECORD_ADDED"],
      patients: [world.patient.address.toUpperCase().replace("0X", "0x")],
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // The secret signs what the consumer package verifies.
    expect(() => verifyWebhook(created.secret, {}, "{}")).toThrow();
    const subscription = created.subscription;
    expect(subscription).toMatchObject({
      id: expect.stringMatching(/^sub_[0-9a-f]{16}$/),
      url: publicUrl,
      types: ["RECORD_ADDED", "ALERT_RAISED"],
      patients: [world.patient.address],
      status: "ACTIVE",
      failureReason: null,
      pending: 0,
    });
    const [row] = await harness.db.query<{ feed_origin: string; feed_seq: string; secret: string }>(
      `SELECT feed_origin, feed_seq::text, secret FROM ${harness.db.gateway}.webhook_subscriptions WHERE id = $1`,
      [subscription.id],
    );
    const end = await feedEnd(harness.db);
    expect(row).toEqual({ feed_origin: end.origin, feed_seq: end.seq.toString(), secret: created.secret });
    expect(end.seq).toBeGreaterThan(0n);

    const listed = await harness.query<{ webhookSubscriptions: Subscription[] }>(
      `{ webhookSubscriptions { ${fields} } }`,
      {
        token: org.token,
      },
    );
    expect(listed.data!.webhookSubscriptions).toEqual([subscription]);
    // Never the secret again.
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const paused = await harness.query<{ pauseWebhookSubscription: Subscription }>(
      `mutation($id: ID!) { pauseWebhookSubscription(id: $id) { id status } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(paused.data!.pauseWebhookSubscription.status).toBe("PAUSED");
    // Not kept by the answer cache: the same query sees the change at once.
    const got = await harness.query<{ webhookSubscription: Subscription }>(
      `query($id: ID!) { webhookSubscription(id: $id) { id status } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(got.data!.webhookSubscription.status).toBe("PAUSED");
    const resumed = await harness.query<{ resumeWebhookSubscription: Subscription }>(
      `mutation($id: ID!) { resumeWebhookSubscription(id: $id) { id status } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(resumed.data!.resumeWebhookSubscription.status).toBe("ACTIVE");
    const again = await harness.query<{ webhookSubscription: Subscription }>(
      `query($id: ID!) { webhookSubscription(id: $id) { id status } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(again.data!.webhookSubscription.status).toBe("ACTIVE");

    const deleted = await harness.query<{ deleteWebhookSubscription: boolean }>(
      `mutation($id: ID!) { deleteWebhookSubscription(id: $id) }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(deleted.data!.deleteWebhookSubscription).toBe(true);
    const gone = await harness.query<{ webhookSubscriptions: Subscription[] }>(
      `{ webhookSubscriptions { id } }`,
      {
        token: org.token,
      },
    );
    expect(gone.data!.webhookSubscriptions).toEqual([]);
  });

  test("args: `after` starts from an events cursor; patients null is every patient", async () => {
    const org = await organization();
    const end = await feedEnd(harness.db);
    const cursor = encodeEventCursor({ origin: end.origin, seq: 1n });
    const { subscription } = await createOk(org.token, {
      url: publicUrl,
      types: ["GRANT_GIVEN"],
      after: cursor,
    });
    expect(subscription.patients).toBeNull();
    const [row] = await harness.db.query<{ feed_seq: string }>(
      `SELECT feed_seq::text FROM ${harness.db.gateway}.webhook_subscriptions WHERE id = $1`,
      [subscription.id],
    );
    expect(row!.feed_seq).toBe("1");
    expect(
      errorOf(await create(org.token, { url: publicUrl, types: ["GRANT_GIVEN"], after: "nope" })).code,
    ).toBe("INVALID_CURSOR");
    const otherGeneration = encodeEventCursor({ origin: "0123456789ab", seq: 1n });
    expect(
      errorOf(await create(org.token, { url: publicUrl, types: ["GRANT_GIVEN"], after: otherGeneration }))
        .code,
    ).toBe("CURSOR_EXPIRED");
  });

  test("error: bad input says what is wrong and what is allowed", async () => {
    const org = await organization();
    // An unknown event type fails GraphQL validation of the enum.
    const unknownType = await create(org.token, { url: publicUrl, types: ["RECORD_DELETED"] });
    expect(errorOf(unknownType).code).toMatch(/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED/);
    expect(errorOf(unknownType).message).toMatch(/RECORD_DELETED/);
    const noType = await create(org.token, { url: publicUrl, types: [] });
    expect(errorOf(noType)).toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringMatching(/at least one.*RECORD_ADDED/),
    });
    for (const url of ["ftp://example.com/x", "not a url", "https://user:pw@example.com/", "http://"]) {
      const invalid = await create(org.token, { url, types: ["RECORD_ADDED"] });
      expect(errorOf(invalid), url).toMatchObject({
        code: "BAD_USER_INPUT",
        message: expect.stringMatching(/http/),
      });
    }
    const many = Array.from({ length: 1001 }, () => lower(newAccount().address));
    const tooMany = await create(org.token, { url: publicUrl, types: ["RECORD_ADDED"], patients: many });
    expect(errorOf(tooMany)).toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringMatching(/at most 1000/),
    });
    const none = await create(org.token, { url: publicUrl, types: ["RECORD_ADDED"], patients: [] });
    expect(errorOf(none).code).toBe("BAD_USER_INPUT");
    const badAddress = await create(org.token, {
      url: publicUrl,
      types: ["RECORD_ADDED"],
      patients: ["0x12"],
    });
    expect(errorOf(badAddress).code).toBe("BAD_USER_INPUT");
    const listed = await harness.query<{ webhookSubscriptions: Subscription[] }>(
      `{ webhookSubscriptions { id } }`,
      {
        token: org.token,
      },
    );
    expect(listed.data!.webhookSubscriptions).toEqual([]);
  });

  test("error: a private URL is refused unless the operator allows it", async () => {
    const org = await organization();
    for (const url of [
      "http://127.0.0.1:8080/hook",
      "http://localhost:8080/hook",
      "http://169.254.169.254/latest/meta-data/",
      "http://10.1.2.3/hook",
      "http://[::1]/hook",
      "http://[fd00::1]/hook",
    ]) {
      const refused = await create(org.token, { url, types: ["RECORD_ADDED"] });
      expect(errorOf(refused), url).toMatchObject({
        code: "BAD_USER_INPUT",
        message: expect.stringMatching(/private address.*WEBHOOK_ALLOW_PRIVATE_URLS/),
      });
    }
    const allowedOrg = await organization(permissive);
    const allowed = await createOk(
      allowedOrg.token,
      { url: "http://127.0.0.1:8080/hook", types: ["RECORD_ADDED"] },
      permissive,
    );
    expect(allowed.subscription.url).toBe("http://127.0.0.1:8080/hook");
  });

  test("error: too many subscriptions for one organization (the limit is in the message)", async () => {
    const org = await organization();
    for (let i = 0; i < 3; i++)
      await createOk(org.token, { url: `${publicUrl}/${i}`, types: ["RECORD_ADDED"] });
    const fourth = await create(org.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    expect(errorOf(fourth)).toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringMatching(/At most 3/),
    });
    // Another organization has its own count.
    const other = await organization();
    await createOk(other.token, { url: publicUrl, types: ["RECORD_ADDED"] });
  });

  test("error: not an organization -> FORBIDDEN; someone else's subscription -> NOT_FOUND", async () => {
    for (const token of [world.patient.token, world.grantedDoctor.token, null]) {
      const response = await create(token as string, { url: publicUrl, types: ["RECORD_ADDED"] });
      expect(errorOf(response).code).toBe("FORBIDDEN");
      const listed = await harness.query(`{ webhookSubscriptions { id } }`, { token });
      expect(errorOf(listed).code).toBe("FORBIDDEN");
    }
    const owner = await organization();
    const stranger = await organization();
    const { subscription } = await createOk(owner.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    const read = await harness.query<{ webhookSubscription: Subscription | null }>(
      `query($id: ID!) { webhookSubscription(id: $id) { id } }`,
      { token: stranger.token, variables: { id: subscription.id } },
    );
    expect(read.data!.webhookSubscription).toBeNull();
    for (const mutation of [
      `mutation($id: ID!) { pauseWebhookSubscription(id: $id) { id } }`,
      `mutation($id: ID!) { resumeWebhookSubscription(id: $id) { id } }`,
      `mutation($id: ID!) { deleteWebhookSubscription(id: $id) }`,
      `mutation($id: ID!) { redeliverWebhookEvents(id: $id, fromEventId: "x") }`,
    ]) {
      for (const id of [subscription.id, "sub_0000000000000000"]) {
        const response = await harness.query(mutation, { token: stranger.token, variables: { id } });
        expect(errorOf(response).code, mutation).toBe("NOT_FOUND");
      }
    }
    // Still there, still active.
    const mine = await harness.query<{ webhookSubscription: Subscription }>(
      `query($id: ID!) { webhookSubscription(id: $id) { id status } }`,
      { token: owner.token, variables: { id: subscription.id } },
    );
    expect(mine.data!.webhookSubscription.status).toBe("ACTIVE");
  });

  test("behavior: an API key manages its organization's subscriptions", async () => {
    const org = await organization();
    const key = await harness.query<{ createApiKey: { key: string } }>(
      `mutation { createApiKey(name: "k") { key } }`,
      {
        token: org.token,
      },
    );
    const created = await createOk(key.data!.createApiKey.key, { url: publicUrl, types: ["ALERT_RAISED"] });
    const listed = await harness.query<{ webhookSubscriptions: Subscription[] }>(
      `{ webhookSubscriptions { id } }`,
      {
        token: org.token,
      },
    );
    expect(listed.data!.webhookSubscriptions.map((s) => s.id)).toEqual([created.subscription.id]);
  });
});

describe("delivery log, resume, redeliver", () => {
  test("default: deliveries with their attempts, newest first, paged with a cursor; pending counted", async () => {
    const org = await organization();
    const a = await createOk(org.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    const b = await createOk(org.token, { url: `${publicUrl}/b`, types: ["RECORD_ADDED"] });
    await insertDeliveries(harness, a.subscription.id, [
      {
        seq: 10,
        eventId: "e10",
        status: "delivered",
        attempts: [{ status: 500, error: "HTTP 500" }, { status: 200 }],
      },
      {
        seq: 11,
        eventId: "e11",
        status: "pending",
        attempts: [{ status: null, error: "connection refused" }],
      },
      { seq: 12, eventId: "e12", status: "pending" },
      { seq: 13, eventId: "e13", status: "withheld" },
    ]);
    await insertDeliveries(harness, b.subscription.id, [{ seq: 10, eventId: "e10", status: "pending" }]);
    const query = `query($after: String) { webhookSubscriptions { id pending deliveries(first: 2, after: $after) {
      edges { cursor node { eventId type patient status createdAt deliveredAt attempts { startedAt latencyMs statusCode error } } }
      pageInfo { hasNextPage endCursor } } } }`;
    type Page = {
      webhookSubscriptions: {
        id: string;
        pending: number;
        deliveries: {
          edges: {
            node: {
              eventId: string;
              status: string;
              attempts: { statusCode: number | null; error: string | null; latencyMs: number }[];
            };
          }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      }[];
    };
    let statements = 0;
    const original = harness.db.pool.query.bind(harness.db.pool);
    harness.db.pool.query = ((...args: Parameters<typeof original>) => {
      statements++;
      return original(...args);
    }) as typeof original;
    let first: Awaited<ReturnType<typeof harness.query<Page>>>;
    try {
      first = await harness.query<Page>(query, { token: org.token });
    } finally {
      harness.db.pool.query = original;
    }
    expect(first.errors).toBeUndefined();
    const [logA, logB] = first.data!.webhookSubscriptions;
    expect(logA!.pending).toBe(2);
    expect(logB!.pending).toBe(1);
    expect(logA!.deliveries.edges.map((edge) => [edge.node.eventId, edge.node.status])).toEqual([
      ["e13", "WITHHELD"],
      ["e12", "PENDING"],
    ]);
    expect(logA!.deliveries.pageInfo.hasNextPage).toBe(true);
    // The viewer, the answer cache's read state, the list, one pending count for both, and per log a page
    // and its attempts (8): not one statement per subscription or per delivery.
    expect(statements).toBeLessThanOrEqual(8);
    // A cursor is bound to its subscription's log: another's refuses it.
    const crossed = await harness.query<Page>(query, {
      token: org.token,
      variables: { after: logA!.deliveries.pageInfo.endCursor },
    });
    expect(errorOf(crossed)).toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringMatching(/cursor/),
    });
    const second = await harness.query<{ webhookSubscription: Page["webhookSubscriptions"][number] }>(
      `query($id: ID!, $after: String) { webhookSubscription(id: $id) { deliveries(first: 2, after: $after) {
        edges { node { eventId status attempts { statusCode error latencyMs } } } pageInfo { hasNextPage } } } }`,
      { token: org.token, variables: { id: a.subscription.id, after: logA!.deliveries.pageInfo.endCursor } },
    );
    expect(second.errors).toBeUndefined();
    const nodes = second.data!.webhookSubscription.deliveries.edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.eventId)).toEqual(["e11", "e10"]);
    expect(nodes[0]).toMatchObject({
      status: "PENDING",
      attempts: [{ statusCode: null, error: "connection refused" }],
    });
    expect(nodes[1]).toMatchObject({
      status: "DELIVERED",
      attempts: [
        { statusCode: 500, error: "HTTP 500", latencyMs: 10 },
        { statusCode: 200, error: null, latencyMs: 11 },
      ],
    });
    expect(second.data!.webhookSubscription.deliveries.pageInfo.hasNextPage).toBe(false);
  });

  test("behavior: resume turns FAILING into ACTIVE and failed deliveries into due pending ones", async () => {
    const org = await organization();
    const { subscription } = await createOk(org.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    await insertDeliveries(harness, subscription.id, [
      { seq: 20, eventId: "e20", status: "delivered" },
      { seq: 21, eventId: "e21", status: "failed", attempts: [{ status: 503 }, { status: 503 }] },
      { seq: 22, eventId: "e22", status: "pending" },
    ]);
    // As the delivery service marks it.
    await harness.db.query(
      `UPDATE ${harness.db.gateway}.webhook_subscriptions SET status = 'failing', failure_reason = 'HTTP 503 for 24 h' WHERE id = $1`,
      [subscription.id],
    );
    const failing = await harness.query<{ webhookSubscription: Subscription }>(
      `query($id: ID!) { webhookSubscription(id: $id) { status failureReason pending } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(failing.data!.webhookSubscription).toEqual({
      status: "FAILING",
      failureReason: "HTTP 503 for 24 h",
      pending: 1,
    });
    const resumed = await harness.query<{ resumeWebhookSubscription: Subscription }>(
      `mutation($id: ID!) { resumeWebhookSubscription(id: $id) { status failureReason pending } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(resumed.data!.resumeWebhookSubscription).toEqual({
      status: "ACTIVE",
      failureReason: null,
      pending: 2,
    });
    const rows = await harness.db.query<{ seq: string; status: string; attempts: number; due: boolean }>(
      `SELECT seq::text, status, attempts, next_attempt_at <= now() AS due FROM ${harness.db.gateway}.webhook_deliveries
        WHERE subscription_id = $1 ORDER BY seq`,
      [subscription.id],
    );
    expect(rows).toEqual([
      { seq: "20", status: "delivered", attempts: 0, due: false },
      { seq: "21", status: "pending", attempts: 0, due: true },
      { seq: "22", status: "pending", attempts: 0, due: false },
    ]);
  });

  test("error: resume after the event log was rebuilt is refused (CONFLICT): the subscription's place is lost", async () => {
    const org = await organization();
    const { subscription } = await createOk(org.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    // As the delivery service leaves it when the feed's origin changed under it.
    await harness.db.query(
      `UPDATE ${harness.db.gateway}.webhook_subscriptions
          SET status = 'failing', failure_reason = 'the event log was rebuilt', feed_origin = 'aaaaaaaaaaaa'
        WHERE id = $1`,
      [subscription.id],
    );
    const resumed = await harness.query<unknown>(
      `mutation($id: ID!) { resumeWebhookSubscription(id: $id) { status } }`,
      { token: org.token, variables: { id: subscription.id } },
    );
    expect(resumed.errors?.[0]?.extensions?.code).toBe("CONFLICT");
    expect(resumed.errors?.[0]?.message).toMatch(/create a new subscription/);
    const [row] = await harness.db.query<{ status: string }>(
      `SELECT status FROM ${harness.db.gateway}.webhook_subscriptions WHERE id = $1`,
      [subscription.id],
    );
    expect(row!.status).toBe("failing");
  });

  test("behavior: redeliver from an event queues it and every later delivery again, now", async () => {
    const org = await organization();
    const { subscription } = await createOk(org.token, { url: publicUrl, types: ["RECORD_ADDED"] });
    await insertDeliveries(harness, subscription.id, [
      { seq: 30, eventId: "e30", status: "delivered", attempts: [{ status: 200 }] },
      { seq: 31, eventId: "e31", status: "delivered", attempts: [{ status: 200 }] },
      { seq: 32, eventId: "e32", status: "failed", attempts: [{ status: 500 }] },
      { seq: 33, eventId: "e33", status: "withheld" },
    ]);
    const redeliver = `mutation($id: ID!, $from: ID!) { redeliverWebhookEvents(id: $id, fromEventId: $from) }`;
    const count = await harness.query<{ redeliverWebhookEvents: number }>(redeliver, {
      token: org.token,
      variables: { id: subscription.id, from: "e31" },
    });
    expect(count.errors).toBeUndefined();
    expect(count.data!.redeliverWebhookEvents).toBe(3);
    const rows = await harness.db.query<{ seq: string; status: string; attempts: number; due: boolean }>(
      `SELECT seq::text, status, attempts, next_attempt_at <= now() AS due FROM ${harness.db.gateway}.webhook_deliveries
        WHERE subscription_id = $1 ORDER BY seq`,
      [subscription.id],
    );
    expect(rows).toEqual([
      { seq: "30", status: "delivered", attempts: 1, due: false },
      { seq: "31", status: "pending", attempts: 0, due: true },
      { seq: "32", status: "pending", attempts: 0, due: true },
      { seq: "33", status: "pending", attempts: 0, due: true },
    ]);
    // The log of attempts stays.
    const [{ attempts }] = (await harness.db.query<{ attempts: number }>(
      `SELECT count(*)::int AS attempts FROM ${harness.db.gateway}.webhook_attempts WHERE subscription_id = $1`,
      [subscription.id],
    )) as [{ attempts: number }];
    expect(attempts).toBe(3);
    const unknown = await harness.query(redeliver, {
      token: org.token,
      variables: { id: subscription.id, from: "not-delivered-here" },
    });
    expect(errorOf(unknown)).toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/eventId/) });
  });
});
