import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigError } from "@carechain/common";
import { WebhookVerificationError } from "./errors.ts";

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, "symmetric" v1): the one module that signs
 * (the delivery service) and verifies (receivers). The signed content is `${webhook-id}.${webhook-timestamp}.${body}`,
 * HMAC-SHA256 with the secret's bytes (base64 after "whsec_"), sent as `webhook-signature: v1,<base64>`;
 * several space-separated signatures let a sender sign with an old and a new secret while the receiver
 * rotates. The `standardwebhooks` package verifies what this signs and the other way round (the tests).
 */

const prefix = "whsec_";
/** Spec: timestamps further than this from now are refused (replays of old captures, clock skew). */
export const defaultToleranceSeconds = 5 * 60;

export type WebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

export type WebhookMessage = { id: string; timestamp: Date; body: string };

export type HeadersLike = Headers | Record<string, string | string[] | undefined>;

export type VerifyOptions = {
  /** How far the timestamp may be from `now`, either way (default 300 s). */
  toleranceSeconds?: number;
  now?: Date;
};

/** A new signing secret: "whsec_" + base64 of 32 random bytes (the spec asks for 24 to 64). */
export function newWebhookSecret(): string {
  return `${prefix}${randomBytes(32).toString("base64")}`;
}

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The key bytes of a secret ("whsec_" optional, as the reference libraries accept). */
function keyOf(secret: string): Buffer {
  const text = secret.startsWith(prefix) ? secret.slice(prefix.length) : secret;
  // Buffer.from(…, "base64") skips what it cannot read: a typo would silently become another key.
  if (text.length === 0 || !base64.test(text))
    throw new ConfigError('A webhook secret is "whsec_" followed by base64 (as newWebhookSecret makes).');
  return Buffer.from(text, "base64");
}

/** The key bytes of each secret; ConfigError for a missing or malformed one. */
export function keysOf(secret: string | readonly string[]): Buffer[] {
  const secrets = typeof secret === "string" ? [secret] : secret;
  if (secrets.length === 0) throw new ConfigError("No webhook secret given.");
  return secrets.map(keyOf);
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function mac(key: Buffer, id: string, timestamp: string, body: string): Buffer {
  return createHmac("sha256", key).update(`${id}.${timestamp}.${body}`, "utf8").digest();
}

/**
 * The three headers of a webhook: one `v1,` signature per secret (give the old and the new secret while
 * rotating, so receivers holding either accept it).
 */
export function signWebhook(secret: string | readonly string[], message: WebhookMessage): WebhookHeaders {
  if (message.id.length === 0) throw new ConfigError("A webhook needs an id.");
  const timestamp = String(seconds(message.timestamp));
  const signatures = keysOf(secret).map(
    (key) => `v1,${mac(key, message.id, timestamp, message.body).toString("base64")}`,
  );
  return {
    "webhook-id": message.id,
    "webhook-timestamp": timestamp,
    "webhook-signature": signatures.join(" "),
  };
}

/** One header, case-insensitively; repeated headers joined as HTTP does (a list). */
function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((k) => k.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  return Array.isArray(value) ? value.join(", ") : value;
}

/** What a verified request signed: its id, its timestamp, and the signature that matched. */
export type VerifiedWebhook = { id: string; timestamp: Date; signature: string };

/**
 * Verifies a webhook and returns its id and timestamp; throws WebhookVerificationError. `body` is the raw
 * request body, exactly as received (parse it only after this).
 */
export function checkWebhook(
  secret: string | readonly string[],
  headers: HeadersLike,
  body: string,
  options: VerifyOptions = {},
): VerifiedWebhook {
  const keys = keysOf(secret);
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signature = header(headers, "webhook-signature");
  if (!id || !timestamp || !signature) {
    const missing = [
      !id && "webhook-id",
      !timestamp && "webhook-timestamp",
      !signature && "webhook-signature",
    ];
    throw new WebhookVerificationError(
      "missing-header",
      `Missing ${missing.filter(Boolean).join(", ")}: not a Standard Webhooks request.`,
    );
  }
  if (!/^\d{1,12}$/.test(timestamp))
    throw new WebhookVerificationError("bad-header", "webhook-timestamp must be whole seconds since 1970.");

  // The signature first: a refusal for the timestamp then says something only about a genuine message.
  const expected = keys.map((key) => mac(key, id, timestamp, body));
  // Space-separated "v1,<base64>" entries (repeated headers arrive joined by ", "); other versions skipped.
  const offered = [...signature.matchAll(/(?:^|[\s,])v1,([A-Za-z0-9+/]+={0,2})(?=$|[\s,])/g)].map((match) =>
    Buffer.from(match[1]!, "base64"),
  );
  const match = expected.find((mine) =>
    offered.some((candidate) => candidate.length === mine.length && timingSafeEqual(candidate, mine)),
  );
  if (!match)
    throw new WebhookVerificationError(
      "bad-signature",
      "No webhook-signature matches: wrong secret, or the body or headers were changed.",
    );

  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds;
  const now = seconds(options.now ?? new Date());
  const sent = Number(timestamp);
  if (now - sent > tolerance)
    throw new WebhookVerificationError(
      "timestamp-too-old",
      `webhook-timestamp is more than ${tolerance} s old: a replay, or a clock far behind.`,
    );
  if (sent - now > tolerance)
    throw new WebhookVerificationError(
      "timestamp-too-new",
      `webhook-timestamp is more than ${tolerance} s ahead: check the sender's clock.`,
    );
  return { id, timestamp: new Date(sent * 1000), signature: match.toString("base64") };
}

/** Verifies a webhook (Standard Webhooks); throws WebhookVerificationError saying why not. */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: HeadersLike,
  body: string,
  options?: VerifyOptions,
): void {
  checkWebhook(secret, headers, body, options);
}
