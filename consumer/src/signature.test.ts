import { createHmac } from "node:crypto";
import { ConfigError } from "@carechain/common";
import { WebhookVerificationError as TheirError, Webhook } from "standardwebhooks";
import { describe, expect, test } from "vitest";
import { type WebhookRefusal, WebhookVerificationError } from "./errors.ts";
import { newWebhookSecret, signWebhook, verifyWebhook } from "./signature.ts";

// Pure unit tests; the `standardwebhooks` package (the spec's reference implementation for JavaScript) is
// the independent oracle: it verifies what we sign, and we verify what it signs.

const body = JSON.stringify({ id: "31337:0xabc:1", type: "RECORD_ADDED", patient: "0x01" });
const id = "31337:0xabc:1";
const now = new Date("2025-01-01T00:00:00Z"); // far from the clock: no test passes by accident

function refusal(fn: () => void): WebhookRefusal | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return undefined;
}

describe("newWebhookSecret", () => {
  test("default: whsec_ and the base64 of 32 random bytes, a new one each time", () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });
});

describe("signWebhook / verifyWebhook", () => {
  test("default: the headers are the spec's, and what is signed verifies", () => {
    const secret = newWebhookSecret();
    const headers = signWebhook(secret, { id, timestamp: now, body });
    expect(headers["webhook-id"]).toBe(id);
    expect(headers["webhook-timestamp"]).toBe(String(now.getTime() / 1000));
    // HMAC-SHA256 of "id.timestamp.body" with the decoded secret, computed here independently.
    const expected = createHmac("sha256", Buffer.from(secret.slice(6), "base64"))
      .update(`${id}.${now.getTime() / 1000}.${body}`)
      .digest("base64");
    expect(headers["webhook-signature"]).toBe(`v1,${expected}`);
    expect(() => verifyWebhook(secret, headers, body, { now })).not.toThrow();
    // A Headers object and a node-style record with other cases work alike.
    expect(() => verifyWebhook(secret, new Headers(headers), body, { now })).not.toThrow();
    const shouty = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(() => verifyWebhook(secret, shouty, body, { now })).not.toThrow();
  });

  test("error: a tampered body, id or timestamp header is refused as bad-signature", () => {
    const secret = newWebhookSecret();
    const headers = signWebhook(secret, { id, timestamp: now, body });
    expect(
      refusal(() => verifyWebhook(secret, headers, body.replace("RECORD_ADDED", "RECORD_AMENDED"), { now })),
    ).toBe("bad-signature");
    expect(refusal(() => verifyWebhook(secret, headers, `${body} `, { now }))).toBe("bad-signature");
    expect(refusal(() => verifyWebhook(secret, { ...headers, "webhook-id": `${id}x` }, body, { now }))).toBe(
      "bad-signature",
    );
    const later = String(Number(headers["webhook-timestamp"]) + 1);
    expect(
      refusal(() => verifyWebhook(secret, { ...headers, "webhook-timestamp": later }, body, { now })),
    ).toBe("bad-signature");
    // A signature cut short, or not base64, does not pass either.
    const sig = headers["webhook-signature"];
    for (const broken of [sig.slice(0, -4), "v1,", "v1,!!!!", sig.replace("v1,", "v2,"), ""]) {
      expect(
        refusal(() => verifyWebhook(secret, { ...headers, "webhook-signature": broken }, body, { now })),
      ).toMatch(/bad-signature|missing-header/);
    }
  });

  test("error: the wrong secret is refused", () => {
    const headers = signWebhook(newWebhookSecret(), { id, timestamp: now, body });
    expect(refusal(() => verifyWebhook(newWebhookSecret(), headers, body, { now }))).toBe("bad-signature");
  });

  test("behavior: rotation: signed with old and new, either secret verifies; a list verifies either signature", () => {
    const [old, next, other] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    const both = signWebhook([old, next], { id, timestamp: now, body });
    expect(both["webhook-signature"].split(" ")).toHaveLength(2);
    expect(() => verifyWebhook(old, both, body, { now })).not.toThrow();
    expect(() => verifyWebhook(next, both, body, { now })).not.toThrow();
    expect(refusal(() => verifyWebhook(other, both, body, { now }))).toBe("bad-signature");
    // The receiver holds both while the sender switches.
    const onlyNew = signWebhook(next, { id, timestamp: now, body });
    expect(() => verifyWebhook([old, next], onlyNew, body, { now })).not.toThrow();
    expect(refusal(() => verifyWebhook([old, other], onlyNew, body, { now }))).toBe("bad-signature");
    // Repeated headers (a proxy may split them) arrive as a list.
    const [first, second] = both["webhook-signature"].split(" ");
    expect(() =>
      verifyWebhook(next, { ...both, "webhook-signature": [first!, second!] }, body, { now }),
    ).not.toThrow();
    // Unknown versions beside v1 are skipped, not fatal.
    const mixed = { ...onlyNew, "webhook-signature": `v1a,abcd ${onlyNew["webhook-signature"]}` };
    expect(() => verifyWebhook(next, mixed, body, { now })).not.toThrow();
  });

  test("error: a timestamp beyond the tolerance is too old or too new; within it passes", () => {
    const secret = newWebhookSecret();
    const at = (seconds: number) =>
      signWebhook(secret, { id, timestamp: new Date(now.getTime() + seconds * 1000), body });
    expect(refusal(() => verifyWebhook(secret, at(-301), body, { now }))).toBe("timestamp-too-old");
    expect(refusal(() => verifyWebhook(secret, at(301), body, { now }))).toBe("timestamp-too-new");
    expect(refusal(() => verifyWebhook(secret, at(-300), body, { now }))).toBeUndefined();
    expect(refusal(() => verifyWebhook(secret, at(300), body, { now }))).toBeUndefined();
    expect(refusal(() => verifyWebhook(secret, at(-61), body, { now, toleranceSeconds: 60 }))).toBe(
      "timestamp-too-old",
    );
    // Without `now`: the clock.
    expect(refusal(() => verifyWebhook(secret, at(0), body))).toBe("timestamp-too-old");
  });

  test("error: a missing or malformed header is refused before anything is computed", () => {
    const secret = newWebhookSecret();
    const headers = signWebhook(secret, { id, timestamp: now, body });
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"] as const) {
      const { [name]: _, ...rest } = headers;
      expect(refusal(() => verifyWebhook(secret, rest, body, { now }))).toBe("missing-header");
    }
    expect(refusal(() => verifyWebhook(secret, {}, body, { now }))).toBe("missing-header");
    for (const bad of ["1.5", "-1", "soon", "1e9"]) {
      expect(
        refusal(() => verifyWebhook(secret, { ...headers, "webhook-timestamp": bad }, body, { now })),
      ).toBe("bad-header");
    }
  });

  test("error: a secret that is not base64 is a configuration error, not a silent other key", () => {
    expect(() => signWebhook("whsec_not base64!", { id, timestamp: now, body })).toThrow(ConfigError);
    expect(() => signWebhook("whsec_", { id, timestamp: now, body })).toThrow(ConfigError);
    expect(() => signWebhook([], { id, timestamp: now, body })).toThrow(ConfigError);
    expect(() => verifyWebhook("whsec_%%%%", {}, body)).toThrow(ConfigError);
  });
});

describe("interoperability with the standardwebhooks package", () => {
  test("behavior: theirs verifies ours, and rejects ours tampered", () => {
    const secret = newWebhookSecret();
    const timestamp = new Date();
    const headers = signWebhook(secret, { id, timestamp, body });
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    // Rotation: both of our signatures in one header, each secret alone accepts it.
    const [old, next] = [newWebhookSecret(), newWebhookSecret()];
    const both = signWebhook([old, next], { id, timestamp, body });
    expect(new Webhook(old).verify(body, both)).toEqual(JSON.parse(body));
    expect(new Webhook(next).verify(body, both)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(TheirError);
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow(TheirError);
  });

  test("behavior: ours verifies theirs, and rejects theirs tampered or under another secret", () => {
    const secret = newWebhookSecret();
    const timestamp = new Date();
    const signature = new Webhook(secret).sign(id, timestamp, body);
    const headers = {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signature,
    };
    expect(() => verifyWebhook(secret, headers, body)).not.toThrow();
    expect(refusal(() => verifyWebhook(secret, headers, body.replace("0x01", "0x02")))).toBe("bad-signature");
    expect(refusal(() => verifyWebhook(newWebhookSecret(), headers, body))).toBe("bad-signature");
    // The spec's example secret (a short, 24-byte key) and one without the prefix, as their library takes.
    const specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const specHeaders = {
      ...headers,
      "webhook-signature": new Webhook(specSecret).sign(id, timestamp, body),
    };
    expect(() => verifyWebhook(specSecret, specHeaders, body)).not.toThrow();
    expect(() => verifyWebhook(specSecret.slice(6), specHeaders, body)).not.toThrow();
  });
});
