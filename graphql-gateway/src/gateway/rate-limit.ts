import type { IncomingMessage, ServerResponse } from "node:http";
import { isIPv6 } from "node:net";
import type { Metrics } from "@carechain/common";
import type { Counter } from "prom-client";
import { GraphQLError } from "../graphql.ts";
import { sendJson } from "../http.ts";

/** `count` requests at once, refilled at `count` per `windowSeconds`; null: no limit. */
export type Rate = { count: number; windowSeconds: number } | null;

/**
 * Rate limits of the gateway, per client address (IP; IPv6 by /64) and per account. Token buckets in memory:
 * one gateway process holds them all (a restart forgets them).
 */
export type RateLimits = {
  /** POST /auth/nonce per address. */
  noncePerAddress: Rate;
  /** POST /auth/verify per address (every attempt). */
  verifyPerAddress: Rate;
  /** Tokens issued per account (only valid signatures count, so nobody can lock another account out). */
  verifyPerAccount: Rate;
  /** /graphql requests per address. */
  graphqlPerAddress: Rate;
  /** /graphql requests per signed-in account. */
  graphqlPerAccount: Rate;
  /** New WebSocket connections per address. */
  socketsPerAddress: Rate;
  /** Subscribe messages per account. */
  subscribesPerAccount: Rate;
  /** Open WebSocket connections per account. */
  maxSocketsPerAccount: number;
  /** Open subscriptions per WebSocket connection. */
  maxSubscriptionsPerSocket: number;
  /** Open subscriptions per account, over all its connections. */
  maxSubscriptionsPerAccount: number;
};

/**
 * Production defaults: generous for people (a NAT'ed clinic shares one address), tight for floods. The load
 * tests send hundreds of requests per second from one address and set higher limits (load-tests/src/services.ts).
 */
export const defaultRateLimits: RateLimits = {
  noncePerAddress: { count: 60, windowSeconds: 60 },
  verifyPerAddress: { count: 60, windowSeconds: 60 },
  verifyPerAccount: { count: 20, windowSeconds: 60 },
  graphqlPerAddress: { count: 1_200, windowSeconds: 10 },
  graphqlPerAccount: { count: 300, windowSeconds: 10 },
  socketsPerAddress: { count: 60, windowSeconds: 60 },
  subscribesPerAccount: { count: 120, windowSeconds: 60 },
  maxSocketsPerAccount: 10,
  maxSubscriptionsPerSocket: 20,
  maxSubscriptionsPerAccount: 50,
};

/** Parses "60/60s" (60 per minute, 60 at once) or "off". */
export function parseRate(value: string): Rate {
  if (value.trim() === "off") return null;
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*s\s*$/.exec(value);
  const count = Number(match?.[1]);
  const windowSeconds = Number(match?.[2]);
  if (!match || count < 1 || windowSeconds < 1) {
    throw new Error(`"${value}" is not a rate: write <count>/<seconds>s (60/60s: 60 a minute) or off`);
  }
  return { count, windowSeconds };
}

export function formatRate(rate: Rate): string {
  return rate ? `${rate.count}/${rate.windowSeconds}s` : "off";
}

type Bucket = { tokens: number; updatedMs: number };

/** Token buckets by key. `take` spends one token or says in how many seconds one will be there. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private lastSweepMs = 0;

  constructor(
    readonly rate: NonNullable<Rate>,
    private readonly now: () => number = Date.now,
    private readonly maxKeys = 100_000,
  ) {
    this.perMs = rate.count / (rate.windowSeconds * 1000);
  }

  get size(): number {
    return this.buckets.size;
  }

  private current(key: string, nowMs: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.rate.count, updatedMs: nowMs };
    const tokens = Math.min(this.rate.count, bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs);
    return { tokens, updatedMs: nowMs };
  }

  /** Spends a token: 0 when allowed, else the seconds to wait (nothing is spent). */
  take(key: string): number {
    const nowMs = this.now();
    const bucket = this.current(key, nowMs);
    if (bucket.tokens < 1) {
      return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
    }
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    this.sweep(nowMs);
    return 0;
  }

  /** Full buckets carry no information: dropped once a minute, or at once when there are too many keys. */
  private sweep(nowMs: number) {
    if (nowMs - this.lastSweepMs < 60_000 && this.buckets.size <= this.maxKeys) return;
    this.lastSweepMs = nowMs;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs >= this.rate.count)
        this.buckets.delete(key);
    }
    // Still too many (a flood from many addresses): forget the oldest half rather than grow without bound.
    if (this.buckets.size > this.maxKeys) {
      let drop = this.buckets.size - this.maxKeys / 2;
      for (const key of this.buckets.keys()) {
        if (drop-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }
}

/**
 * The key of a client address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 (one host usually owns a
 * whole /64, so per-address limits would be easy to dodge).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = "", tail = ""] = address.toLowerCase().split("%")[0]!.split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") && tail ? tail.split(":") : [];
  const groups = address.includes("::")
    ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

export function clientAddress(req: IncomingMessage): string {
  return addressKey(req.socket.remoteAddress);
}

export type LimitName =
  | "nonce_address"
  | "verify_address"
  | "verify_account"
  | "graphql_address"
  | "graphql_account"
  | "socket_address"
  | "socket_account"
  | "subscribe_account"
  | "subscription_socket"
  | "subscription_account";

const refusalsCache = new WeakMap<Metrics, Counter<"limit">>();

/** carechain_gateway_rate_limited_total{limit}: requests refused by a rate limit. */
export function rateLimitedCounter(metrics: Metrics): Counter<"limit"> {
  let counter = refusalsCache.get(metrics);
  if (!counter) {
    counter = metrics.counter(
      "carechain_gateway_rate_limited_total",
      "Requests, connections and subscriptions refused by a rate limit, by limit.",
      ["limit"],
    );
    refusalsCache.set(metrics, counter);
  }
  return counter;
}

/** The GraphQL error of a refusal: code RATE_LIMITED, `extensions.retryAfter` in seconds. */
export function rateLimitedError(message: string, retryAfter: number): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "RATE_LIMITED", retryAfter } });
}

/**
 * HTTP 429 with Retry-After; the body as the endpoint answers errors: GraphQL-shaped for /graphql,
 * `{ error: { code, message } }` for the sign-in endpoints.
 */
export function sendRateLimited(
  res: ServerResponse,
  message: string,
  retryAfter: number,
  shape: "graphql" | "rest" = "graphql",
): void {
  const body =
    shape === "graphql"
      ? { errors: [{ message, extensions: { code: "RATE_LIMITED", retryAfter } }] }
      : { error: { code: "RATE_LIMITED", message, retryAfter } };
  sendJson(res, 429, body, { "retry-after": String(retryAfter), "cache-control": "no-store" });
}

/** Minimal view of a graphql-ws connection context: its open subscriptions and socket. */
export type SocketContext = {
  subscriptions: Record<string, unknown>;
  extra: { socket: { close(code: number, reason: string): void; once(event: "close", l: () => void): void } };
};

/** The WebSocket close code of a refused connection (graphql-ws uses 44xx for its own refusals). */
export const tooManyRequestsCloseCode = 4429;

/** Every rate limit of one gateway process; each check answers with a refusal or null. */
export class RateLimiter {
  private readonly buckets = new Map<LimitName, TokenBuckets>();
  private readonly socketsByAccount = new Map<string, Set<SocketContext>>();
  private readonly refused: Counter<"limit">;

  constructor(
    readonly limits: RateLimits,
    metrics: Metrics,
    now: () => number = Date.now,
  ) {
    this.refused = rateLimitedCounter(metrics);
    const rates: [LimitName, Rate][] = [
      ["nonce_address", limits.noncePerAddress],
      ["verify_address", limits.verifyPerAddress],
      ["verify_account", limits.verifyPerAccount],
      ["graphql_address", limits.graphqlPerAddress],
      ["graphql_account", limits.graphqlPerAccount],
      ["socket_address", limits.socketsPerAddress],
      ["subscribe_account", limits.subscribesPerAccount],
    ];
    for (const [name, rate] of rates) if (rate) this.buckets.set(name, new TokenBuckets(rate, now));
  }

  /** Spends a token of `name` for `key`: 0 when allowed, else seconds to wait (counted as a refusal). */
  take(name: LimitName, key: string): number {
    const wait = this.buckets.get(name)?.take(key) ?? 0;
    if (wait > 0) this.refused.inc({ limit: name });
    return wait;
  }

  /**
   * HTTP endpoints: spends one token per (limit, key) pair in order and answers 429 for the first that is
   * out. Returns true when the request may go on.
   */
  admitHttp(
    res: ServerResponse,
    checks: [LimitName, string | null][],
    what: string,
    shape: "graphql" | "rest" = "graphql",
  ): boolean {
    for (const [name, key] of checks) {
      if (key === null) continue;
      const wait = this.take(name, key);
      if (wait > 0) {
        sendRateLimited(res, `Too many ${what}: try again in ${wait} s.`, wait, shape);
        return false;
      }
    }
    return true;
  }

  /** A new WebSocket connection from `address`: refused (with the reason) when the address opens too many. */
  admitSocketAddress(address: string): string | null {
    const wait = this.take("socket_address", address);
    return wait > 0 ? `Too many connections: try again in ${wait} s.` : null;
  }

  /** A connection signed in as `account`: refused beyond its open connections; tracked until it closes. */
  admitSocketAccount(ctx: SocketContext, account: string): string | null {
    const sockets = this.socketsByAccount.get(account) ?? new Set<SocketContext>();
    if (sockets.size >= this.limits.maxSocketsPerAccount) {
      this.refused.inc({ limit: "socket_account" });
      return `At most ${this.limits.maxSocketsPerAccount} open connections per account.`;
    }
    sockets.add(ctx);
    this.socketsByAccount.set(account, sockets);
    ctx.extra.socket.once("close", () => {
      sockets.delete(ctx);
      if (sockets.size === 0 && this.socketsByAccount.get(account) === sockets)
        this.socketsByAccount.delete(account);
    });
    return null;
  }

  /**
   * A subscribe message on `ctx` (graphql-ws has already registered it in `ctx.subscriptions`): the
   * connection's and the account's open subscriptions, then the account's subscribe rate.
   */
  admitSubscription(ctx: SocketContext, account: string): GraphQLError | null {
    const onSocket = Object.keys(ctx.subscriptions).length;
    if (onSocket > this.limits.maxSubscriptionsPerSocket) {
      this.refused.inc({ limit: "subscription_socket" });
      return rateLimitedError(
        `At most ${this.limits.maxSubscriptionsPerSocket} open subscriptions per connection: complete one first.`,
        1,
      );
    }
    let onAccount = 0;
    for (const socket of this.socketsByAccount.get(account) ?? [ctx]) {
      onAccount += Object.keys(socket.subscriptions).length;
    }
    if (onAccount > this.limits.maxSubscriptionsPerAccount) {
      this.refused.inc({ limit: "subscription_account" });
      return rateLimitedError(
        `At most ${this.limits.maxSubscriptionsPerAccount} open subscriptions per account: complete one first.`,
        1,
      );
    }
    const wait = this.take("subscribe_account", account);
    if (wait > 0) return rateLimitedError(`Too many subscriptions: try again in ${wait} s.`, wait);
    return null;
  }
}
