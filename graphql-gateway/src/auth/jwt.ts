import { randomUUID } from "node:crypto";
import type { Address } from "viem";
import { UnauthenticatedError } from "../errors.ts";
import { signHs256, verifyHs256 } from "./hs256.ts";
import { isAddress, normalizeAddress } from "./viewer.ts";

const audience = "carechain-gateway";

/** The viewer's session token after Sign-In with Ethereum: HS256, subject = address, short-lived. */
export async function issueAccessToken(options: {
  secret: string;
  address: Address;
  ttlSeconds: number;
  issuer: string;
  now?: Date;
}): Promise<{ token: string; expiresAt: Date }> {
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const expiresAt = issuedAt + options.ttlSeconds;
  const token = signHs256(options.secret, {
    sub: normalizeAddress(options.address),
    iss: options.issuer,
    aud: audience,
    iat: issuedAt,
    exp: expiresAt,
    jti: randomUUID(),
  });
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** The address a valid token names; UnauthenticatedError (with the reason) for any other token. */
export async function verifyAccessToken(options: {
  secret: string;
  token: string;
  issuer: string;
}): Promise<{ address: Address; expiresAt: Date }> {
  const claims = verifyHs256(options.secret, options.token);
  const { sub, iss, aud, exp, nbf } = claims ?? {};
  if (!claims || iss !== options.issuer || aud !== audience || typeof exp !== "number")
    throw new UnauthenticatedError("Invalid token.");
  const now = Math.floor(Date.now() / 1000);
  if (exp <= now) throw new UnauthenticatedError("Token expired.");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > now))
    throw new UnauthenticatedError("Invalid token.");
  if (!isAddress(sub)) throw new UnauthenticatedError("Token subject is not an address.");
  return { address: normalizeAddress(sub), expiresAt: new Date(exp * 1000) };
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
