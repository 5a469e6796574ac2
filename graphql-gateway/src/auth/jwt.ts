import { randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Address } from "viem";
import { UnauthenticatedError } from "../errors.ts";
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
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(normalizeAddress(options.address))
    .setIssuer(options.issuer)
    .setAudience(audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .setJti(randomUUID())
    .sign(secretKey(options.secret));
  return { token, expiresAt: new Date(expiresAt * 1000) };
}

/** The address a valid token names; UnauthenticatedError (with the reason) for any other token. */
export async function verifyAccessToken(options: {
  secret: string;
  token: string;
  issuer: string;
}): Promise<{ address: Address; expiresAt: Date }> {
  try {
    const { payload } = await jwtVerify(options.token, secretKey(options.secret), {
      algorithms: ["HS256"],
      audience,
      issuer: options.issuer,
      requiredClaims: ["sub", "exp"],
    });
    if (!isAddress(payload.sub)) throw new UnauthenticatedError("Token subject is not an address.");
    return { address: normalizeAddress(payload.sub), expiresAt: new Date(payload.exp! * 1000) };
  } catch (error) {
    if (error instanceof UnauthenticatedError) throw error;
    const reason = error instanceof joseErrors.JWTExpired ? "Token expired." : "Invalid token.";
    throw new UnauthenticatedError(reason);
  }
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}
