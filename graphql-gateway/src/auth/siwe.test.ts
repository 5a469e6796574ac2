import { createSiweMessage } from "viem/siwe";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signIn } from "../client/sign-in.ts";
import { SignInFailedError } from "../errors.ts";
import { createTestGateway, newAccount, type TestGateway } from "../testing/index.ts";
import { issueAccessToken } from "./jwt.ts";

let harness: TestGateway;

beforeAll(async () => {
  harness = await createTestGateway();
});

afterAll(async () => {
  await harness?.stop();
});

const me = `{ me { address role } }`;

/** Signs in with `options` and returns the refusal (status and reason), or fails if it was accepted. */
async function refusal(options: Partial<Parameters<typeof signIn>[0]>) {
  try {
    await signIn({ url: harness.gateway.url, account: newAccount(), ...options });
  } catch (error) {
    if (error instanceof SignInFailedError) return { status: error.status, reason: error.reason };
    throw error;
  }
  throw new Error("sign-in was accepted");
}

/** Sign-in that records the body sent to /auth/verify. */
async function signInCapturing(account = newAccount()) {
  let body: string | undefined;
  const capturing: typeof fetch = (input, init) => {
    if (String(input).endsWith("/auth/verify")) body = init?.body as string;
    return fetch(input, init);
  };
  const result = await signIn({ url: harness.gateway.url, account, fetch: capturing });
  return { result, body: body!, account };
}

const verify = (body: string) =>
  fetch(`${harness.gateway.url}/auth/verify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });

describe("sign-in with Ethereum", () => {
  test("default", async () => {
    const account = newAccount();
    const { token, address, expiresAt } = await signIn({ url: harness.gateway.url, account });
    expect(address).toBe(account.address.toLowerCase());
    const ttl = new Date(expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    const result = await harness.query(me, { token });
    expect(result.data).toEqual({ me: { address: address, role: "NONE" } });
  });

  test("behavior: the nonce answer tells the client what the gateway checks", async () => {
    const response = await fetch(`${harness.gateway.url}/auth/nonce`, { method: "POST" });
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ domain: "carechain.test", uri: "https://carechain.test", chainId: 31337 });
    expect(body.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(new Date(body.expiresAt as string).getTime()).toBeGreaterThan(Date.now());
  });

  test("error: a replayed nonce is refused", async () => {
    const { body } = await signInCapturing();
    const replay = await verify(body);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: "UNAUTHENTICATED", reason: "BAD_NONCE" } });
  });

  test("error: a nonce is used once even by concurrent requests", async () => {
    const account = newAccount();
    const challenge = (await (
      await fetch(`${harness.gateway.url}/auth/nonce`, { method: "POST" })
    ).json()) as {
      nonce: string;
    };
    const message = createSiweMessage({
      address: account.address,
      chainId: 31337,
      domain: "carechain.test",
      uri: "https://carechain.test",
      nonce: challenge.nonce,
      version: "1",
      issuedAt: new Date(),
    });
    const body = JSON.stringify({ message, signature: await account.signMessage({ message }) });
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => verify(body)))).map((r) => r.status);
    expect(statuses.sort()).toEqual([200, 401, 401, 401, 401]);
  });

  test("error: an unknown nonce is refused", async () => {
    expect(
      await refusal({
        message: (fields) => createSiweMessage({ ...fields, nonce: "abcdef0123456789abcdef0123456789" }),
      }),
    ).toEqual({ status: 401, reason: "BAD_NONCE" });
  });

  test("error: an expired message is refused", async () => {
    expect(
      await refusal({
        message: (fields) =>
          createSiweMessage({
            ...fields,
            issuedAt: new Date(Date.now() - 20 * 60_000),
            expirationTime: new Date(Date.now() - 10 * 60_000),
          }),
      }),
    ).toEqual({ status: 401, reason: "EXPIRED" });
    expect(
      await refusal({
        message: (fields) =>
          createSiweMessage({
            ...fields,
            issuedAt: new Date(Date.now() - 3600_000),
            expirationTime: undefined,
          }),
      }),
    ).toEqual({ status: 401, reason: "EXPIRED" });
  });

  test("error: a wrong domain, URI or chain is refused", async () => {
    expect(await refusal({ domain: "evil.example" })).toEqual({ status: 401, reason: "WRONG_DOMAIN" });
    expect(await refusal({ uri: "https://evil.example/login" })).toEqual({
      status: 401,
      reason: "WRONG_URI",
    });
    expect(await refusal({ chainId: 1 })).toEqual({ status: 401, reason: "WRONG_CHAIN" });
  });

  test("error: a bad signature is refused", async () => {
    const victim = newAccount();
    const attacker = newAccount();
    expect(
      await refusal({
        account: { address: victim.address, signMessage: (args) => attacker.signMessage(args) },
      }),
    ).toEqual({ status: 401, reason: "BAD_SIGNATURE" });
  });

  test("error: a malformed body is refused", async () => {
    const empty = await verify("{}");
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: { code: "BAD_USER_INPUT", reason: "MALFORMED" } });
    const notSiwe = await verify(JSON.stringify({ message: "hello", signature: "0x1234" }));
    expect(notSiwe.status).toBe(400);
    const notJson = await verify("{");
    expect(notJson.status).toBe(400);
  });

  test("error: without a valid token the request is anonymous", async () => {
    const { result } = await signInCapturing();
    const tampered = `${result.token.slice(0, -4)}AAAA`;
    const foreign = await issueAccessToken({
      secret: "another secret that is at least 32 characters long",
      address: result.address as `0x${string}`,
      ttlSeconds: 60,
      issuer: "carechain.test",
    });
    const expired = await issueAccessToken({
      secret: harness.common.options.jwtSecret,
      address: result.address as `0x${string}`,
      ttlSeconds: 60,
      issuer: "carechain.test",
      now: new Date(Date.now() - 3600_000),
    });
    for (const token of [tampered, foreign.token, expired.token]) {
      const response = await harness.query(me, { token });
      expect(response.data).toEqual({ me: { address: null, role: "ANONYMOUS" } });
      expect(response.headers.get("www-authenticate")).toMatch(/invalid_token/);
    }
  });
});
