import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Receiver, receiver } from "../testing.ts";
import { createPoster } from "./post.ts";

// One POST against real HTTP servers on 127.0.0.1: each way an attempt can end.

let hook: Receiver;
const poster = createPoster({ timeoutMs: 300, allowPrivateUrls: true });

beforeAll(async () => {
  hook = await receiver();
});

afterAll(async () => {
  poster.close();
  await hook.down().catch(() => {});
});

const headers = { "webhook-id": "evt_1", "webhook-timestamp": "1", "webhook-signature": "v1,x" };

describe("post", () => {
  test("default: 2xx is delivered; the body and headers arrive as given", async () => {
    hook.status = 204;
    hook.delayMs = 0;
    const result = await poster.post(hook.url, headers, '{"a":1}');
    expect(result).toMatchObject({ result: "delivered", statusCode: 204, error: null });
    expect(hook.received.at(-1)).toMatchObject({ id: "evt_1", body: '{"a":1}' });
    expect(hook.received.at(-1)!.headers["content-type"]).toBe("application/json");
  });

  test("behavior: another status is an http_error naming the status, never the receiver's body", async () => {
    hook.status = 503;
    const result = await poster.post(hook.url, headers, "{}");
    expect(result).toMatchObject({ result: "http_error", statusCode: 503, error: "HTTP 503" });
  });

  test("behavior: no answer within the timeout ends the attempt at the timeout", async () => {
    hook.status = 200;
    hook.delayMs = 2_000;
    const started = Date.now();
    const result = await poster.post(hook.url, headers, "{}");
    expect(result).toMatchObject({ result: "timeout", statusCode: null, error: "no answer within 300 ms" });
    expect(Date.now() - started).toBeLessThan(1_500);
    hook.delayMs = 0;
  });

  test("error: a receiver that is down is a network_error; a private address is refused unless allowed", async () => {
    const down = await receiver();
    const url = down.url;
    await down.down();
    expect(await poster.post(url, headers, "{}")).toMatchObject({
      result: "network_error",
      statusCode: null,
      error: "ECONNREFUSED",
    });
    const strict = createPoster({ timeoutMs: 300, allowPrivateUrls: false });
    const refused = await strict.post(hook.url, headers, "{}");
    strict.close();
    expect(refused).toMatchObject({ result: "refused", statusCode: null });
    expect(refused.error).toMatch(/private address \(127\.0\.0\.1\)/);
  });
});
