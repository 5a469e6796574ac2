import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import {
  createTestGateway,
  lower,
  newAccount,
  type TestGateway,
  until,
  type World,
} from "../testing/index.ts";
import { authenticateApiKey, createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "./api-keys.ts";

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

const hour = 3600_000;
const later = (ms: number) => new Date(Date.now() + ms);

/** A fresh organization (kind 3, a laboratory) signed in with its wallet. */
async function organization(): Promise<{ address: `0x${string}`; token: string }> {
  const account = newAccount();
  const address = await harness.fixtures.organization(lower(account.address), { kind: 3, block: 50 });
  return { address, token: await harness.signIn(account) };
}

const createKeyMutation = `mutation($name: String!, $days: Int) {
  createApiKey(name: $name, expiresInDays: $days) { key apiKey { id name createdAt expiresAt revokedAt lastUsedAt } }
}`;

async function createKeyAs(token: string, name = "ingest", days?: number) {
  const response = await harness.query<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    createKeyMutation,
    { token, variables: { name, days } },
  );
  expect(response.errors).toBeUndefined();
  return response.data!.createApiKey;
}

describe("API keys (store)", () => {
  test("default: shown once as cck_<16 hex>_<43 base64url>, stored hashed, authenticates as its owner", async () => {
    const owner = lower(newAccount().address);
    const { apiKey, key } = await createApiKey(harness.db, owner, { name: "insurer ingest" });
    expect(key).toMatch(/^cck_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(apiKey).toMatchObject({
      id: `key_${key.slice(4, 20)}`,
      owner,
      name: "insurer ingest",
      scopes: ["delivery"],
    });
    expect(apiKey).toMatchObject({ expiresAt: null, revokedAt: null, lastUsedAt: null });
    const [row] = await harness.db.query<{ secret_hash: string }>(
      `SELECT secret_hash FROM ${harness.db.gateway}.api_keys WHERE id = $1`,
      [apiKey.id],
    );
    expect(row!.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secret_hash).not.toContain(key.slice(21));
    expect(await authenticateApiKey(harness.db, key)).toMatchObject({
      keyId: apiKey.id,
      owner,
      scopes: ["delivery"],
    });
    // Used just now: recorded once, not rewritten within the minute.
    const [first] = await listApiKeys(harness.db, owner);
    expect(first!.lastUsedAt).toBeInstanceOf(Date);
    await authenticateApiKey(harness.db, key, new Date(first!.lastUsedAt!.getTime() + 30_000));
    expect((await listApiKeys(harness.db, owner))[0]!.lastUsedAt).toEqual(first!.lastUsedAt);
    await authenticateApiKey(harness.db, key, new Date(first!.lastUsedAt!.getTime() + 61_000));
    expect((await listApiKeys(harness.db, owner))[0]!.lastUsedAt!.getTime()).toBe(
      first!.lastUsedAt!.getTime() + 61_000,
    );
  });

  test("error: a wrong secret, an unknown id, a malformed key, a JWT-looking token", async () => {
    const owner = lower(newAccount().address);
    const { key } = await createApiKey(harness.db, owner, { name: "k" });
    const secret = key.slice(21);
    const wrongSecret = `${key.slice(0, 21)}${secret[0] === "A" ? "B" : "A"}${secret.slice(1)}`;
    const unknownId = `cck_${"0".repeat(16)}_${secret}`;
    for (const bad of [wrongSecret, unknownId, `${key}x`, key.slice(0, -1), "cck_", "eyJhbGciOi.x.y"])
      expect(await authenticateApiKey(harness.db, bad), bad).toBeNull();
  });

  test("error: a revoked key and an expired key are refused", async () => {
    const owner = lower(newAccount().address);
    const revoked = await createApiKey(harness.db, owner, { name: "revoked" });
    const revokedRow = await revokeApiKey(harness.db, owner, revoked.apiKey.id);
    expect(revokedRow.revokedAt).toBeInstanceOf(Date);
    expect(await authenticateApiKey(harness.db, revoked.key)).toBeNull();

    const expiring = await createApiKey(harness.db, owner, { name: "expiring", expiresInDays: 1 });
    expect(expiring.apiKey.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 23 * hour);
    expect(await authenticateApiKey(harness.db, expiring.key)).not.toBeNull();
    expect(await authenticateApiKey(harness.db, expiring.key, later(25 * hour))).toBeNull();
  });

  test("behavior: rotation: old and new both work until the overlap ends, then only the new one", async () => {
    const owner = lower(newAccount().address);
    const old = await createApiKey(harness.db, owner, { name: "rotating" });
    const rotated = await rotateApiKey(harness.db, owner, old.apiKey.id, 2);
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.apiKey).toMatchObject({ name: "rotating", expiresAt: null });
    for (const at of [new Date(), later(hour)]) {
      expect(await authenticateApiKey(harness.db, old.key, at), "old, within the overlap").not.toBeNull();
      expect(await authenticateApiKey(harness.db, rotated.key, at), "new").not.toBeNull();
    }
    expect(await authenticateApiKey(harness.db, old.key, later(2 * hour + 60_000))).toBeNull();
    expect(await authenticateApiKey(harness.db, rotated.key, later(2 * hour + 60_000))).not.toBeNull();
    // The old one is listed with its new end; a revoked key cannot be rotated.
    const listed = await listApiKeys(harness.db, owner);
    expect(listed.map((key) => key.id)).toEqual(expect.arrayContaining([old.apiKey.id, rotated.apiKey.id]));
    await revokeApiKey(harness.db, owner, rotated.apiKey.id);
    await expect(rotateApiKey(harness.db, owner, rotated.apiKey.id, 1)).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT" },
    });
  });

  test("error: another owner's key is NOT_FOUND for revoke and rotate; bad arguments say the bounds", async () => {
    const owner = lower(newAccount().address);
    const stranger = lower(newAccount().address);
    const { apiKey, key } = await createApiKey(harness.db, owner, { name: "mine" });
    await expect(revokeApiKey(harness.db, stranger, apiKey.id)).rejects.toMatchObject({
      extensions: { code: "NOT_FOUND" },
    });
    await expect(rotateApiKey(harness.db, stranger, apiKey.id, 1)).rejects.toMatchObject({
      extensions: { code: "NOT_FOUND" },
    });
    expect(await authenticateApiKey(harness.db, key)).not.toBeNull();
    await expect(createApiKey(harness.db, owner, { name: " " })).rejects.toThrow(/name/);
    await expect(createApiKey(harness.db, owner, { name: "x", expiresInDays: 0 })).rejects.toThrow(
      /expiresInDays/,
    );
    await expect(rotateApiKey(harness.db, owner, apiKey.id, -1)).rejects.toThrow(/overlapHours/);
  });
});

describe("API keys (gateway)", () => {
  test("default: an organization creates, lists, rotates and revokes keys with its wallet session", async () => {
    const org = await organization();
    const created = await createKeyAs(org.token, "pipeline", 30);
    const rotated = await harness.query<{ rotateApiKey: { key: string; apiKey: { id: string } } }>(
      `mutation($id: ID!) { rotateApiKey(id: $id, overlapHours: 1) { key apiKey { id } } }`,
      { token: org.token, variables: { id: created.apiKey.id } },
    );
    expect(rotated.errors).toBeUndefined();
    const listed = await harness.query<{ apiKeys: { id: string; expiresAt: string | null }[] }>(
      `{ apiKeys { id name expiresAt revokedAt } }`,
      { token: org.token },
    );
    expect(listed.data!.apiKeys.map((key) => key.id)).toEqual([
      rotated.data!.rotateApiKey.apiKey.id,
      created.apiKey.id,
    ]);
    const revoked = await harness.query<{ revokeApiKey: { revokedAt: string | null } }>(
      `mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }`,
      { token: org.token, variables: { id: created.apiKey.id } },
    );
    expect(revoked.data!.revokeApiKey.revokedAt).not.toBeNull();
    // The secret is never listed.
    expect(JSON.stringify(listed)).not.toContain(created.key.slice(21));
  });

  test("behavior: a key authenticates as its organization, limited to delivery: me, events, webhooks", async () => {
    const { key } = await createKeyAs(world.insurer.token);
    const me = await harness.query<{ me: { address: string; role: string } }>(`{ me { address role } }`, {
      token: key,
    });
    expect(me.errors).toBeUndefined();
    expect(me.data!.me).toEqual({ address: world.insurer.address, role: "ORGANIZATION" });
    const allowed = await harness.query(
      `{ events(first: 5) { edges { node { id type } } pageInfo { endCursor } } webhookSubscriptions { id } }`,
      { token: key },
    );
    expect(allowed.errors).toBeUndefined();
    expect(allowed.status).toBe(200);
  });

  test("error: an API key cannot read Query.patient, nor the viewer's entries, nor manage keys (FORBIDDEN)", async () => {
    const { key, apiKey } = await createKeyAs(world.insurer.token);
    // The insurer's session may read the patient (READ_RECORDS grant): the key may not.
    const asSession = await harness.query(`query P($a: Address!) { patient(address: $a) { address } }`, {
      token: world.insurer.token,
      variables: { a: world.patient.address },
    });
    expect(asSession.errors).toBeUndefined();
    for (const [query, variables] of [
      [`query P($a: Address!) { patient(address: $a) { address } }`, { a: world.patient.address }],
      [`{ me { organization { patients { address } } } }`, {}],
      [`{ doctors { edges { cursor } } }`, {}],
      [`{ apiKeys { id } }`, {}],
      [`mutation { createApiKey(name: "more") { key } }`, {}],
      [`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: apiKey.id }],
      [
        `query F { ...Q } fragment Q on Query { patient(address: "${world.patient.address}") { address } }`,
        {},
      ],
    ] as const) {
      const response = await harness.query(query, { token: key, variables });
      expect(response.errors?.[0]?.extensions?.code, query).toBe("FORBIDDEN");
      expect(response.errors?.[0]?.message, query).toMatch(/API keys are for event delivery/);
      expect(response.data ?? null, query).toBeNull();
      expect(response.status, query).toBe(403);
    }
    // The same operation, asked again by the session and then by the key: the answer cache keeps them apart.
    const query = `query P($a: Address!) { patient(address: $a) { address } }`;
    const variables = { a: world.patient.address };
    await harness.query(query, { token: world.insurer.token, variables });
    const again = await harness.query(query, { token: key, variables });
    expect(again.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  test("error: FHIR and documents refuse an API key; a revoked or wrong key is anonymous with invalid_token", async () => {
    const { key, apiKey } = await createKeyAs(world.insurer.token);
    const fhir = await fetch(`${harness.gateway.url}/fhir/R4/Patient/${world.patient.address}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(fhir.status).toBe(403);
    await fhir.body?.cancel();
    await harness.query(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
      token: world.insurer.token,
      variables: { id: apiKey.id },
    });
    const revoked = await harness.query<{ me: { role: string } }>(`{ me { role } }`, { token: key });
    expect(revoked.data!.me.role).toBe("ANONYMOUS");
    expect(revoked.headers.get("www-authenticate")).toMatch(/invalid_token/);
  });

  test("error: keys are for organizations only", async () => {
    for (const token of [world.patient.token, world.grantedDoctor.token]) {
      const response = await harness.query(createKeyMutation, { token, variables: { name: "x" } });
      expect(response.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    const anonymous = await harness.query(createKeyMutation, { variables: { name: "x" } });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  test("behavior: graphql-ws takes a key: the events subscription runs, others are refused, revocation closes it", async () => {
    const { key, apiKey } = await createKeyAs(world.insurer.token);
    const received: { data?: unknown; errors?: { extensions?: { code?: string } }[] }[] = [];
    const errors: unknown[] = [];
    let closedWith: number | undefined;
    const client = createClient({
      url: harness.gateway.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
      lazy: false,
      on: {
        closed: (event) => {
          closedWith = (event as { code?: number }).code;
        },
      },
      onNonLazyError: () => {},
    });
    try {
      client.subscribe(
        { query: `subscription { alertRaised { id } }` },
        {
          next: (value) => void received.push(value as never),
          error: (e) => void errors.push(e),
          complete: () => {},
        },
      );
      await until(() => errors.length === 1, "the refusal of alertRaised");
      expect(JSON.stringify(errors[0])).toMatch(/FORBIDDEN|API keys are for event delivery/);
      client.subscribe(
        { query: `subscription { events(types: [RECORD_ADDED]) { id type patient } }` },
        {
          next: (value) => void received.push(value as never),
          error: (e) => void errors.push(e),
          complete: () => {},
        },
      );
      await until(() => harness.gateway.liveSubscriptions() >= 1, "the events subscription");
      const record = await harness.fixtures.record({
        patient: world.patient.address,
        author: world.grantedDoctor.address,
        type: 1,
        block: 2000,
      });
      await until(() => received.length === 1, "the record event");
      expect(received[0]).toMatchObject({
        data: { events: { type: "RECORD_ADDED", patient: world.patient.address } },
      });
      expect(JSON.stringify(received[0])).toContain(record.eventId);
      await harness.query(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, {
        token: world.insurer.token,
        variables: { id: apiKey.id },
      });
      // Within one recheck (10 s).
      await until(() => closedWith !== undefined, "the connection closed after revocation", 20_000);
      expect(closedWith).toBe(4401);
    } finally {
      await client.dispose();
    }
  }, 60_000);
});
