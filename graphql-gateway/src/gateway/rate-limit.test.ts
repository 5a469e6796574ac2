import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import WebSocket from "ws";
import { optionsFromEnv } from "../config.ts";
import { createTestGateway, newAccount, type TestGateway, until, type World } from "../testing/index.ts";
import {
  addressKey,
  defaultRateLimits,
  parseRate,
  TokenBuckets,
  tooManyRequestsCloseCode,
} from "./rate-limit.ts";

describe("TokenBuckets", () => {
  test("default", () => {
    let now = 0;
    const buckets = new TokenBuckets({ count: 3, windowSeconds: 30 }, () => now);
    expect([buckets.take("a"), buckets.take("a"), buckets.take("a")]).toEqual([0, 0, 0]);
    // Out: one token comes back every 10 s.
    expect(buckets.take("a")).toBe(10);
    expect(buckets.take("b")).toBe(0);
    now = 4_000;
    expect(buckets.take("a")).toBe(6);
    now = 10_000;
    expect(buckets.take("a")).toBe(0);
    expect(buckets.take("a")).toBe(10);
  });

  test("behavior: full buckets are forgotten, the number of keys is bounded", () => {
    let now = 0;
    const buckets = new TokenBuckets({ count: 1, windowSeconds: 1 }, () => now, 100);
    for (let i = 0; i < 1_000; i++) buckets.take(`k${i}`);
    expect(buckets.size).toBeLessThanOrEqual(101);
    now = 120_000;
    buckets.take("last");
    expect(buckets.size).toBe(1);
  });
});

describe("addressKey and parseRate", () => {
  test("default", () => {
    expect(addressKey("203.0.113.7")).toBe("203.0.113.7");
    expect(addressKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    // One /64 is one client.
    expect(addressKey("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(addressKey("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(parseRate("60/60s")).toEqual({ count: 60, windowSeconds: 60 });
    expect(parseRate("off")).toBeNull();
  });

  test("error: malformed rates", () => {
    for (const bad of ["60", "60/m", "0/10s", "ten/10s"]) expect(() => parseRate(bad)).toThrow(/not a rate/);
  });

  test("args: the gateway's environment sets every limit", () => {
    const env = {
      DATABASE_URL: "postgres://carechain@127.0.0.1:5432/carechain",
      KAFKA_BROKERS: "127.0.0.1:9092",
      JWT_SECRET: "0123456789abcdef0123456789abcdef",
    };
    expect(optionsFromEnv(env).limits).toMatchObject({
      maxAliases: 100,
      maxBodyBytes: 65_536,
      rates: defaultRateLimits,
    });
    const options = optionsFromEnv({
      ...env,
      MAX_BODY_BYTES: "1000",
      MAX_ALIASES: "5",
      RATE_LIMIT_NONCE_PER_IP: "5/1s",
      RATE_LIMIT_GRAPHQL_PER_IP: "off",
      MAX_SUBSCRIPTIONS_PER_SOCKET: "3",
    });
    expect(options.limits).toMatchObject({
      maxBodyBytes: 1000,
      maxAliases: 5,
      rates: {
        noncePerAddress: { count: 5, windowSeconds: 1 },
        graphqlPerAddress: null,
        maxSubscriptionsPerSocket: 3,
      },
    });
    expect(() => optionsFromEnv({ ...env, RATE_LIMIT_VERIFY_PER_IP: "lots" })).toThrow(
      /RATE_LIMIT_VERIFY_PER_IP/,
    );
  });
});

/** Sums a counter's series in the gateway's registry, e.g. rateLimited("nonce_address"). */
async function rateLimited(harness: TestGateway, limit: string): Promise<number> {
  const text = await harness.common.metrics.text();
  const pattern = new RegExp(
    `^carechain_gateway_rate_limited_total\\{[^}]*limit="${limit}"[^}]*\\} (\\d+)$`,
    "m",
  );
  return Number(pattern.exec(text)?.[1] ?? 0);
}

describe("rate limits on the running gateway", () => {
  let harness: TestGateway;
  let world: World;

  beforeAll(async () => {
    harness = await createTestGateway({
      subscriptions: true,
      limits: {
        rates: {
          ...defaultRateLimits,
          graphqlPerAccount: { count: 5, windowSeconds: 3_600 },
          // The default's burst, refilled slowly: a loaded machine's slow requests do not blur the count.
          noncePerAddress: { count: defaultRateLimits.noncePerAddress!.count, windowSeconds: 3_600 },
        },
      },
    });
    world = await harness.createWorld();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  test("error: GraphQL requests over an account's limit get 429, RATE_LIMITED and Retry-After", async () => {
    const ask = (token: string) => harness.query(`{ me { role } }`, { token });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await ask(world.grantedDoctor.token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const refused = await ask(world.grantedDoctor.token);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: "RATE_LIMITED",
      retryAfter: Number(refused.headers.get("retry-after")),
    });
    // Per account: another viewer, and anonymous requests from the same address, go on.
    expect((await ask(world.insurer.token)).status).toBe(200);
    expect((await harness.query(`{ me { role } }`)).status).toBe(200);
    expect(await rateLimited(harness, "graphql_account")).toBeGreaterThanOrEqual(1);
  });

  test("error: subscriptions beyond the per-connection cap are refused on the subscribe", async () => {
    // An unregistered wallet, as in the probe.
    const token = await harness.signIn(newAccount());
    const errors: { message?: string; extensions?: { code?: string } }[][] = [];
    const client = createClient({
      url: harness.gateway.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    const disposers: (() => void)[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        disposers.push(
          client.subscribe(
            { query: "subscription { recordAdded { id } }" },
            {
              next: () => {},
              error: (error) => void errors.push(error as (typeof errors)[number]),
              complete: () => {},
            },
          ),
        );
      }
      const cap = defaultRateLimits.maxSubscriptionsPerSocket;
      await until(() => errors.length >= 300 - cap, `${300 - cap} refusals`, 30_000);
      for (const refusal of errors) {
        expect(refusal[0]).toMatchObject({
          message: expect.stringMatching(/open subscriptions per connection/),
          extensions: { code: "RATE_LIMITED" },
        });
      }
      expect(await rateLimited(harness, "subscription_socket")).toBeGreaterThanOrEqual(300 - cap);
    } finally {
      for (const dispose of disposers) dispose();
      await client.dispose();
    }
  });

  test("error: connections beyond the per-account cap are closed with 4429", async () => {
    const token = await harness.signIn(newAccount());
    const open = (): Promise<{ code: number; reason: string } | "open"> =>
      new Promise((resolve) => {
        const socket = new WebSocket(harness.gateway.wsUrl, "graphql-transport-ws");
        sockets.push(socket);
        socket.on("open", () =>
          socket.send(
            JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }),
          ),
        );
        socket.on("message", (data) => {
          if (JSON.parse(String(data)).type === "connection_ack") resolve("open");
        });
        socket.on("close", (code, reason) => resolve({ code, reason: String(reason) }));
      });
    const sockets: WebSocket[] = [];
    try {
      const results = [];
      for (let i = 0; i < defaultRateLimits.maxSocketsPerAccount; i++) results.push(await open());
      expect(results.every((result) => result === "open")).toBe(true);
      expect(await open()).toEqual({
        code: tooManyRequestsCloseCode,
        reason: expect.stringMatching(/open connections per account/),
      });
    } finally {
      for (const socket of sockets) socket.close();
    }
  });

  // Last: it spends this address's sign-in budget.
  test("error: 300 sign-in nonces from one address get 429 with Retry-After beyond the limit", async () => {
    const responses = await Promise.all(
      Array.from({ length: 300 }, () => fetch(`${harness.gateway.url}/auth/nonce`, { method: "POST" })),
    );
    const ok = responses.filter((response) => response.status === 200);
    const refused = responses.filter((response) => response.status === 429);
    expect(ok.length + refused.length).toBe(300);
    // The bucket holds 60; the world's sign-ins spent some.
    expect(ok.length).toBeLessThanOrEqual(defaultRateLimits.noncePerAddress!.count);
    expect(refused.length).toBeGreaterThanOrEqual(300 - defaultRateLimits.noncePerAddress!.count);
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await refused[0]!.json()).toMatchObject({
      error: { code: "RATE_LIMITED", retryAfter: expect.any(Number) },
    });
    expect(await rateLimited(harness, "nonce_address")).toBe(refused.length);
  });
});
