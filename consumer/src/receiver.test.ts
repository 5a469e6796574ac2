import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, test } from "vitest";
import type { FeedEvent } from "./event.ts";
import { createWebhookHandler, type WebhookOutcome, type WebhookReceiverOptions } from "./receiver.ts";
import { newWebhookSecret, signWebhook } from "./signature.ts";

// The receiver over a real node:http server on 127.0.0.1, sent real requests with fetch.

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

let counter = 0;
function event(overrides: Partial<FeedEvent> = {}): FeedEvent {
  counter++;
  return {
    id: `31337:0x${"ab".repeat(32)}:${counter}`,
    schemaVersion: 1,
    type: "GRANT_REVOKED",
    patient: `0x${"01".repeat(20)}`,
    occurredAt: "2025-01-01T00:00:00.000Z",
    chainId: 31337,
    blockNumber: 7,
    blockHash: `0x${"ab".repeat(32)}`,
    transactionHash: `0x${"cd".repeat(32)}`,
    logIndex: counter,
    retracted: false,
    data: { grantee: `0x${"02".repeat(20)}` },
    ...overrides,
  } as FeedEvent;
}

async function start(options: Partial<WebhookReceiverOptions> & { secret: string | readonly string[] }) {
  const received: FeedEvent[] = [];
  const outcomes: WebhookOutcome[] = [];
  const handler = createWebhookHandler({
    onEvent: (e) => void received.push(e),
    onOutcome: (o) => void outcomes.push(o),
    ...options,
  });
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/carechain`;
  return { url, received, outcomes, handler };
}

type Sent = { status: number; error?: string };

async function post(url: string, headers: Record<string, string>, body: string): Promise<Sent> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, ...(text && { error: (JSON.parse(text) as { error: string }).error }) };
}

function signed(secret: string | readonly string[], e: FeedEvent, timestamp = new Date()) {
  const body = JSON.stringify(e);
  return { headers: signWebhook(secret, { id: e.id, timestamp, body }), body };
}

describe("createWebhookHandler", () => {
  test("default: a signed event is answered 204 and handed over once, parsed", async () => {
    const secret = newWebhookSecret();
    const { url, received, outcomes } = await start({ secret });
    const e = event();
    const { headers, body } = signed(secret, e);
    expect(await post(url, headers, body)).toEqual({ status: 204 });
    expect(received).toEqual([e]);
    expect(outcomes).toEqual([{ status: 204, id: e.id }]);
  });

  test("error: a tampered body, a wrong secret, an old timestamp or missing headers are refused unhandled", async () => {
    const secret = newWebhookSecret();
    const { url, received } = await start({ secret });
    const e = event();
    const { headers, body } = signed(secret, e);
    expect(await post(url, headers, body.replace("GRANT_REVOKED", "GRANT_GIVEN"))).toEqual({
      status: 401,
      error: "bad-signature",
    });
    const other = signed(newWebhookSecret(), e);
    expect(await post(url, other.headers, other.body)).toEqual({ status: 401, error: "bad-signature" });
    const old = signed(secret, e, new Date(Date.now() - 10 * 60_000));
    expect(await post(url, old.headers, old.body)).toEqual({ status: 401, error: "timestamp-too-old" });
    expect(await post(url, {}, body)).toEqual({ status: 400, error: "missing-header" });
    // Signed, but the header and the body name different events: dropping duplicates by id would lie.
    const mismatch = signWebhook(secret, { id: "another", timestamp: new Date(), body });
    expect(await post(url, mismatch, body)).toEqual({ status: 400, error: "id-mismatch" });
    const notJson = signWebhook(secret, { id: e.id, timestamp: new Date(), body: "{" });
    expect(await post(url, notJson, "{")).toEqual({ status: 400, error: "bad-body" });
    expect(received).toEqual([]);
    // The genuine one still goes through afterwards.
    expect(await post(url, headers, body)).toEqual({ status: 204 });
    expect(received).toEqual([e]);
  });

  test("error: a replayed request (the same signed request again) is refused with 409", async () => {
    const secret = newWebhookSecret();
    const { url, received } = await start({ secret });
    const { headers, body } = signed(secret, event());
    expect(await post(url, headers, body)).toEqual({ status: 204 });
    expect(await post(url, headers, body)).toEqual({ status: 409, error: "replayed" });
    expect(received).toHaveLength(1);
  });

  test("behavior: a duplicate (the same event re-signed: a resend, a redelivery) is acknowledged, not handled again", async () => {
    const secret = newWebhookSecret();
    const { url, received, outcomes } = await start({ secret });
    const e = event();
    expect(await post(url, ...args(signed(secret, e)))).toEqual({ status: 204 });
    expect(await post(url, ...args(signed(secret, e, new Date(Date.now() + 1000))))).toEqual({ status: 204 });
    expect(received).toHaveLength(1);
    expect(outcomes.at(-1)).toEqual({ status: 204, id: e.id, duplicate: true });
  });

  test("behavior: a failing handler answers 500 (the sender retries), and the resend is handled", async () => {
    const secret = newWebhookSecret();
    let fail = true;
    const handled: string[] = [];
    const { url } = await start({
      secret,
      onEvent: (e) => {
        if (fail) throw new Error("database down");
        handled.push(e.id);
      },
    });
    const e = event();
    expect(await post(url, ...args(signed(secret, e)))).toEqual({ status: 500, error: "handler-failed" });
    fail = false;
    expect(await post(url, ...args(signed(secret, e, new Date(Date.now() + 1000))))).toEqual({ status: 204 });
    expect(handled).toEqual([e.id]);
  });

  test("behavior: while an event is being handled, a concurrent resend waits its turn (409), never runs twice", async () => {
    const secret = newWebhookSecret();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const { url } = await start({
      secret,
      onEvent: async () => {
        calls++;
        await gate;
      },
    });
    const e = event();
    const first = post(url, ...args(signed(secret, e)));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await post(url, ...args(signed(secret, e, new Date(Date.now() + 1000))))).toEqual({
      status: 409,
      error: "in-progress",
    });
    release();
    expect(await first).toEqual({ status: 204 });
    expect(calls).toBe(1);
  });

  test("behavior: during a rotation the receiver accepts either secret", async () => {
    const [old, next] = [newWebhookSecret(), newWebhookSecret()];
    const { url, received } = await start({ secret: [old, next] });
    expect(await post(url, ...args(signed(old, event())))).toEqual({ status: 204 });
    expect(await post(url, ...args(signed(next, event())))).toEqual({ status: 204 });
    expect(await post(url, ...args(signed(newWebhookSecret(), event())))).toMatchObject({ status: 401 });
    expect(received).toHaveLength(2);
  });

  test("error: without a valid secret it answers 500 (the sender retries until the receiver is fixed)", async () => {
    const e = event();
    for (const secret of ["", "whsec_ not base64", []]) {
      const { url, received } = await start({ secret });
      expect(await post(url, ...args(signed(newWebhookSecret(), e)))).toEqual({
        status: 500,
        error: "receiver-misconfigured",
      });
      expect(received).toEqual([]);
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
  });

  test("error: another method is 405, an oversized body 413 (unread)", async () => {
    const secret = newWebhookSecret();
    const { url, received } = await start({ secret, maxBodyBytes: 1000 });
    expect((await fetch(url)).status).toBe(405);
    const big = event({ data: { grantee: "x".repeat(5000) } } as Partial<FeedEvent>);
    expect(await post(url, ...args(signed(secret, big)))).toEqual({ status: 413, error: "body-too-large" });
    expect(received).toEqual([]);
  });
});

const args = (s: { headers: Record<string, string>; body: string }) => [s.headers, s.body] as const;
