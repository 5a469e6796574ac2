import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeEventCursor } from "@carechain/gateway/events";
import { createTestGateway, lower, newAccount, type TestGateway, until } from "@carechain/gateway/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileCursorStore, memoryCursorStore } from "./cursor-store.ts";
import { EventsRequestRefusedError } from "./errors.ts";
import { EventPuller, type PulledEvent, type PullOptions } from "./pull.ts";
import { memorySeenEvents } from "./seen.ts";

// The pull client against a real gateway (the gateway's test kit over the stack's PostgreSQL); events are
// written into the projection by the projector's own applyBatch (the fixtures), as the events API's tests do.

let harness: TestGateway;
let dir: string;

beforeAll(async () => {
  harness = await createTestGateway();
  dir = await mkdtemp(join(tmpdir(), "carechain-consumer-"));
});

afterAll(async () => {
  await harness?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A patient who granted a fresh insurer READ_RECORDS; the insurer's token. */
async function insurerOfPatient() {
  const patientAccount = newAccount();
  const insurerAccount = newAccount();
  const patient = await harness.fixtures.patient(patientAccount.address, { block: 1 });
  const insurer = await harness.fixtures.organization(insurerAccount.address, { kind: 2, block: 2 });
  await harness.fixtures.grant({ patient, grantee: insurer, scopes: 1, block: 10 });
  return { patient, insurer, token: await harness.signIn(insurerAccount) };
}

const record = async (patient: string, block: number) =>
  (await harness.fixtures.record({ patient: lower(patient), author: lower(patient), type: 1, block }))
    .eventId;

/** Runs a puller until `done` says so, then stops it; returns what it handed over. */
async function pullUntil(
  options: Omit<PullOptions, "url" | "onEvent">,
  done: (events: PulledEvent[]) => boolean,
) {
  const events: PulledEvent[] = [];
  const puller = new EventPuller({
    url: harness.gateway.url,
    pollIntervalMs: 50,
    ...options,
    onEvent: (event) => void events.push(event),
  });
  const stop = new AbortController();
  const running = puller.run(stop.signal);
  let failure: unknown;
  running.catch((error) => (failure = error));
  try {
    await until(() => failure !== undefined || done(events), "the events");
  } finally {
    stop.abort();
    await running.catch(() => {});
  }
  if (failure) throw failure;
  return { events, puller };
}

describe("EventPuller", () => {
  test("default: every event once, in feed order, page by page; a restart with the cursor file continues there", async () => {
    const { patient, token } = await insurerOfPatient();
    const records = [];
    for (let block = 20; block < 25; block++) records.push(await record(patient, block));
    const file = join(dir, "default", "cursor.json");
    const saved: (string | null)[] = [];
    const store = fileCursorStore(file);
    const recording = {
      load: store.load,
      save: async (cursor: string | null) => {
        saved.push(cursor);
        await store.save(cursor);
      },
    };

    const first = await pullUntil({ token, cursorStore: recording, pageSize: 2 }, (e) => e.length >= 6);
    expect(first.events.map((e) => e.type)).toEqual(["GRANT_GIVEN", ...records.map(() => "RECORD_ADDED")]);
    expect(first.events.slice(1).map((e) => e.id)).toEqual(records);
    expect(first.events[0]).toMatchObject({ patient, schemaVersion: 1, retracted: false });
    // A cursor saved after each page of two, then not again while nothing changes.
    expect(saved.length).toBeGreaterThanOrEqual(3);
    expect(new Set(saved).size).toBe(saved.length);
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ cursor: first.puller.cursor });

    // Stopped; two more records; a new process (nothing in memory) with the same file gets just those.
    const more = [await record(patient, 30), await record(patient, 31)];
    const second = await pullUntil({ token, cursorStore: fileCursorStore(file) }, (e) => e.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(second.events.map((e) => e.id)).toEqual(more);
  });

  test("behavior: filters by type and patient are the events API's", async () => {
    const { patient, token } = await insurerOfPatient();
    const other = await insurerOfPatient();
    const mine = await record(patient, 20);
    await record(other.patient, 20);
    const { events } = await pullUntil(
      { token, types: ["RECORD_ADDED"], patients: [patient] },
      (e) => e.length >= 1,
    );
    expect(events.map((e) => e.id)).toEqual([mine]);
  });

  test("behavior: after CURSOR_EXPIRED it starts again without a cursor and drops what it handled, by id", async () => {
    const { patient, token } = await insurerOfPatient();
    const before = [await record(patient, 20), await record(patient, 21)];
    const store = memoryCursorStore();
    const seen = memorySeenEvents();
    const first = await pullUntil({ token, cursorStore: store, seen }, (e) => e.length >= 3);
    expect(first.events.slice(1).map((e) => e.id)).toEqual(before);

    // The gateway's event log rebuilt: the saved cursor belongs to another generation of the feed.
    await store.save(encodeEventCursor({ origin: "0".repeat(12), seq: 1n }));
    const after = await record(patient, 22);
    let expired = 0;
    const second = await pullUntil(
      { token, cursorStore: store, seen, onCursorExpired: () => expired++ },
      (e) => e.length >= 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(expired).toBe(1);
    expect(second.events.map((e) => e.id)).toEqual([after]);
    expect(store.cursor).toEqual(expect.any(String));
  });

  test("behavior: a failing handler stops the page before its cursor is saved; the retry hands over the rest once", async () => {
    const { patient, token } = await insurerOfPatient();
    const ids = [await record(patient, 20), await record(patient, 21)];
    const handled: string[] = [];
    let failOnce = true;
    const puller = new EventPuller({
      url: harness.gateway.url,
      token,
      onEvent: (event) => {
        if (event.id === ids[1] && failOnce) {
          failOnce = false;
          throw new Error("our database is down");
        }
        handled.push(event.id);
      },
    });
    await expect(puller.pullPage()).rejects.toThrow("our database is down");
    expect(puller.cursor).toBeNull();
    expect(await puller.pullPage()).toMatchObject({ delivered: 1 });
    expect(handled.slice(1)).toEqual(ids);
  });

  test("behavior: unreachable or failing gateways are retried with backoff until they answer", async () => {
    const { patient, token } = await insurerOfPatient();
    const id = await record(patient, 20);
    let calls = 0;
    const retries: { attempt: number; retryable: boolean }[] = [];
    const { events } = await pullUntil(
      {
        token,
        retry: { initialDelayMs: 10, maxDelayMs: 20 },
        onRetry: ({ error, attempt }) =>
          retries.push({ attempt, retryable: (error as { retryable?: boolean }).retryable === true }),
        // The first two requests fail as a network and a load balancer would; then the real gateway.
        fetch: async (input, init) => {
          calls++;
          if (calls === 1) throw new TypeError("fetch failed");
          if (calls === 2) return new Response("<html>bad gateway</html>", { status: 502 });
          return fetch(input, init);
        },
      },
      (e) => e.length >= 2,
    );
    expect(retries).toEqual([
      { attempt: 1, retryable: true },
      { attempt: 2, retryable: true },
    ]);
    expect(events.map((e) => e.id)).toContain(id);
  });

  test("behavior: a token function is asked again after UNAUTHENTICATED (an expired JWT renewed)", async () => {
    const { token } = await insurerOfPatient();
    const given = ["not-a-jwt", token];
    const { events } = await pullUntil({ token: () => given.shift() ?? token }, (e) => e.length >= 1);
    expect(events[0]!.type).toBe("GRANT_GIVEN");
  });

  test("behavior: an organization's API key (cck_…) pulls what its wallet session would", async () => {
    const { patient, token } = await insurerOfPatient();
    const id = await record(patient, 20);
    const { data, errors } = await harness.query<{ createApiKey: { key: string } }>(
      `mutation { createApiKey(name: "consumer test") { key apiKey { id } } }`,
      { token },
    );
    expect(errors).toBeUndefined();
    const key = data!.createApiKey.key;
    expect(key).toMatch(/^cck_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const withKey = await pullUntil({ token: key }, (e) => e.length >= 2);
    const withJwt = await pullUntil({ token }, (e) => e.length >= 2);
    expect(withKey.events.map((e) => e.id)).toEqual(withJwt.events.map((e) => e.id));
    expect(withKey.events.at(-1)!.id).toBe(id);
    // A revoked or made-up key is an invalid token, reported as such.
    const forged = `${key.slice(0, 21)}${"A".repeat(43)}`;
    await expect(pullUntil({ token: forged }, () => false)).rejects.toMatchObject({
      code: "UNAUTHENTICATED",
    });
  });

  test("error: a bad cursor, an invalid token or a bad page size is refused and not retried", async () => {
    const { token } = await insurerOfPatient();
    const refusal = async (options: Partial<PullOptions>) => {
      let retried = 0;
      const puller = new EventPuller({
        url: harness.gateway.url,
        token,
        onEvent: () => {},
        onRetry: () => retried++,
        ...options,
      });
      const error = await puller.run(AbortSignal.timeout(20_000)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(retried).toBe(0);
      expect(error).toBeInstanceOf(EventsRequestRefusedError);
      expect((error as EventsRequestRefusedError).retryable).toBe(false);
      return (error as EventsRequestRefusedError).code;
    };
    expect(await refusal({ cursorStore: memoryCursorStore("nope") })).toBe("INVALID_CURSOR");
    expect(await refusal({ token: "not-a-jwt" })).toBe("UNAUTHENTICATED");
    expect(await refusal({ pageSize: 100_000 })).toBe("BAD_USER_INPUT");
  });
});
