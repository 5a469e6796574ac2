import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Compact JWTs signed with HMAC-SHA256 (RFC 7515/7519), made and checked with node:crypto synchronously:
 * the gateway checks a bearer token on every request and signs a viewer context for every subgraph fetch,
 * and a WebCrypto job per signature (jose) cost more than the rest of a cached answer. Only HS256: a token
 * whose header names another algorithm (`none` included) is refused.
 */
const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");

const hmac = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest();

export type JwtClaims = Record<string, unknown>;

/** `claims` as a signed compact JWT. */
export function signHs256(secret: string, claims: JwtClaims): string {
  const signed = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${signed}.${hmac(secret, signed).toString("base64url")}`;
}

/**
 * The claims of a token signed with `secret`, or null for anything else (malformed, another algorithm, a
 * bad signature). The claims themselves (issuer, audience, expiry) are the caller's to check.
 */
export function verifyHs256(secret: string, token: string): JwtClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [encodedHeader, encodedClaims, encodedSignature] = parts as [string, string, string];
  if (encodedHeader !== header && parseJson(encodedHeader)?.alg !== "HS256") return null;
  const signature = Buffer.from(encodedSignature, "base64url");
  const expected = hmac(secret, `${encodedHeader}.${encodedClaims}`);
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
  return parseJson(encodedClaims);
}

function parseJson(encoded: string): JwtClaims | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(encoded, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JwtClaims) : null;
  } catch {
    return null;
  }
}
