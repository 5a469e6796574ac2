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

/** What a token says once its signature, issuer, audience and subject are checked: all but the time. */
type CheckedToken = { address: Address; exp: number; nbf: number | undefined };

function checkToken(secret: string, token: string, issuer: string): CheckedToken {
  const claims = verifyHs256(secret, token);
  const { sub, iss, aud, exp, nbf } = claims ?? {};
  if (!claims || iss !== issuer || aud !== audience || typeof exp !== "number")
    throw new UnauthenticatedError("Invalid token.");
  if (nbf !== undefined && typeof nbf !== "number") throw new UnauthenticatedError("Invalid token.");
  if (!isAddress(sub)) throw new UnauthenticatedError("Token subject is not an address.");
  return { address: normalizeAddress(sub), exp, nbf };
}

function inTime(checked: CheckedToken): { address: Address; expiresAt: Date } {
  const now = Math.floor(Date.now() / 1000);
  if (checked.exp <= now) throw new UnauthenticatedError("Token expired.");
  if (checked.nbf !== undefined && checked.nbf > now) throw new UnauthenticatedError("Invalid token.");
  return { address: checked.address, expiresAt: new Date(checked.exp * 1000) };
}

/** The address a valid token names; UnauthenticatedError (with the reason) for any other token. */
export async function verifyAccessToken(options: {
  secret: string;
  token: string;
  issuer: string;
}): Promise<{ address: Address; expiresAt: Date }> {
  return inTime(checkToken(options.secret, options.token, options.issuer));
}

/**
 * `verifyAccessToken` for a server that sees the same tokens again and again: the signature check of a token
 * that passed is remembered by the token's text (it cannot change), and only its time is checked again on
 * each use. Tokens that fail are not remembered. At most `maxEntries` are kept; then it starts again.
 */
export class AccessTokenVerifier {
  private readonly checked = new Map<string, CheckedToken>();

  constructor(private readonly options: { secret: string; issuer: string; maxEntries?: number }) {}

  verify(token: string): { address: Address; expiresAt: Date } {
    let checked = this.checked.get(token);
    if (!checked) {
      checked = checkToken(this.options.secret, token, this.options.issuer);
      if (this.checked.size >= (this.options.maxEntries ?? 10_000)) this.checked.clear();
      this.checked.set(token, checked);
    }
    return inTime(checked);
  }
}

/** `Authorization: Bearer <token>` → the token, or undefined. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
