import { afterEach, describe, expect, test, vi } from "vitest";
import { signHs256 } from "./hs256.ts";
import { AccessTokenVerifier, issueAccessToken } from "./jwt.ts";

const secret = "s".repeat(32);
const issuer = "carechain.test";
const address = "0x00000000000000000000000000000000000000a1";

afterEach(() => {
  vi.useRealTimers();
});

describe("AccessTokenVerifier", () => {
  test("default: the address of a valid token, again on the next use", async () => {
    const { token, expiresAt } = await issueAccessToken({ secret, issuer, address, ttlSeconds: 60 });
    const verifier = new AccessTokenVerifier({ secret, issuer });
    expect(verifier.verify(token)).toEqual({ address, expiresAt });
    expect(verifier.verify(token)).toEqual({ address, expiresAt });
  });

  test("behavior: a remembered token still expires", async () => {
    vi.useFakeTimers({ now: new Date("2026-11-30T12:00:00Z") });
    const { token } = await issueAccessToken({ secret, issuer, address, ttlSeconds: 60 });
    const verifier = new AccessTokenVerifier({ secret, issuer });
    expect(verifier.verify(token).address).toBe(address);
    vi.setSystemTime(new Date("2026-11-30T12:01:00Z"));
    expect(() => verifier.verify(token)).toThrow("Token expired.");
  });

  test("behavior: past maxEntries it starts again, and still verifies", async () => {
    const verifier = new AccessTokenVerifier({ secret, issuer, maxEntries: 2 });
    const tokens = await Promise.all(
      Array.from({ length: 5 }, () => issueAccessToken({ secret, issuer, address, ttlSeconds: 60 })),
    );
    for (const { token } of [...tokens, ...tokens]) expect(verifier.verify(token).address).toBe(address);
  });

  test("error: another secret, issuer or audience, a bad subject, or garbage is refused, also the second time", async () => {
    const verifier = new AccessTokenVerifier({ secret, issuer });
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: address, iss: issuer, aud: "carechain-gateway", iat: now, exp: now + 60 };
    const refused = [
      signHs256("t".repeat(32), claims),
      signHs256(secret, { ...claims, iss: "elsewhere" }),
      signHs256(secret, { ...claims, aud: "someone-else" }),
      signHs256(secret, { ...claims, sub: "not-an-address" }),
      signHs256(secret, { ...claims, nbf: now + 3_600 }),
      "garbage",
    ];
    for (const token of [...refused, ...refused]) expect(() => verifier.verify(token)).toThrow();
  });
});
