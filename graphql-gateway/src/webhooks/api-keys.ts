import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Address } from "viem";
import type { Database } from "../database/pool.ts";
import { badUserInput, GatewayError } from "../errors.ts";

/**
 * Organizations' API keys: long-lived credentials for machines (the delivery scope: events, webhook
 * subscriptions), bound to the organization's account. `cck_<id>_<secret>`: the id (16 hex) is public and
 * finds the row; only the SHA-256 of the secret (32 random bytes, base64url) is stored, and the key is
 * shown once. Rotation issues a new key and lets the old one expire after an overlap: no gap.
 */

/** The scopes a key can carry; "delivery" is the only one. */
export type ApiKeyScope = "delivery";

export type ApiKey = {
  id: string;
  owner: Address;
  name: string;
  scopes: ApiKeyScope[];
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
};

/** What an accepted key stands for: the owner's account, limited to the key's scopes. */
export type ApiKeyPrincipal = {
  keyId: string;
  owner: Address;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
};

const keyForm = /^cck_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** True for a bearer token shaped as one of our API keys (the gateway tells keys from JWTs by this). */
export function isApiKey(token: string): boolean {
  return token.startsWith("cck_");
}

/** Names are shown to the owner only; bounded so that a list stays small. */
const maxNameLength = 100;
/** last_used_at is written at most this often per key: not one write per request. */
const lastUsedResolutionMs = 60_000;
/** Bounds of `expiresInDays` and `overlapHours`. */
export const maxKeyLifetimeDays = 3650;
export const maxRotationOverlapHours = 24 * 30;

const columns = `id, owner, name, scopes, created_at AS "createdAt", expires_at AS "expiresAt",
  revoked_at AS "revokedAt", last_used_at AS "lastUsedAt"`;

const hashOf = (secret: string): Buffer => createHash("sha256").update(secret).digest();

function notFound(): never {
  // The same answer whether the key does not exist or is another account's.
  throw new GatewayError("NOT_FOUND", "No such API key.").toGraphQLError();
}

function newKey(): { id: string; key: string; secretHash: string } {
  const hex = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { id: `key_${hex}`, key: `cck_${hex}_${secret}`, secretHash: hashOf(secret).toString("hex") };
}

/** A new key for `owner` (an organization: the caller checks), shown once in `key`. */
export async function createApiKey(
  db: Database,
  owner: string,
  options: { name: string; expiresInDays?: number | null },
): Promise<{ apiKey: ApiKey; key: string }> {
  const name = options.name.trim();
  if (name.length === 0 || name.length > maxNameLength)
    throw badUserInput(`\`name\` must be 1 to ${maxNameLength} characters.`);
  const days = options.expiresInDays ?? null;
  if (days !== null && (!Number.isInteger(days) || days < 1 || days > maxKeyLifetimeDays))
    throw badUserInput(`\`expiresInDays\` must be 1 to ${maxKeyLifetimeDays}, or null for no expiry.`);
  const { id, key, secretHash } = newKey();
  const [apiKey] = await db.query<ApiKey>(
    `INSERT INTO ${db.gateway}.api_keys (id, owner, name, secret_hash, scopes, expires_at)
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(days => $6::int) END)
     RETURNING ${columns}`,
    [id, owner.toLowerCase(), name, secretHash, ["delivery"], days],
  );
  return { apiKey: apiKey!, key };
}

/** The owner's keys, newest first, revoked and expired ones included (the owner sees their history). */
export function listApiKeys(db: Database, owner: string): Promise<ApiKey[]> {
  return db.query<ApiKey>(
    `SELECT ${columns} FROM ${db.gateway}.api_keys WHERE owner = $1 ORDER BY created_at DESC, id`,
    [owner.toLowerCase()],
  );
}

/** Revokes one of the owner's keys now (again: unchanged); NOT_FOUND for anyone else's. */
export async function revokeApiKey(db: Database, owner: string, id: string): Promise<ApiKey> {
  const [row] = await db.query<ApiKey>(
    `UPDATE ${db.gateway}.api_keys SET revoked_at = coalesce(revoked_at, now())
      WHERE id = $1 AND owner = $2 RETURNING ${columns}`,
    [id, owner.toLowerCase()],
  );
  return row ?? notFound();
}

/**
 * A new key replacing one of the owner's: the old one keeps working `overlapHours` more (then expires),
 * so clients can switch without a gap. The new key has the old one's name, scopes and lifetime.
 */
export async function rotateApiKey(
  db: Database,
  owner: string,
  id: string,
  overlapHours: number,
): Promise<{ apiKey: ApiKey; key: string }> {
  if (!Number.isInteger(overlapHours) || overlapHours < 0 || overlapHours > maxRotationOverlapHours)
    throw badUserInput(`\`overlapHours\` must be 0 to ${maxRotationOverlapHours}.`);
  const { id: newId, key, secretHash } = newKey();
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ usable: boolean }>(
      `SELECT revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS usable
         FROM ${db.gateway}.api_keys WHERE id = $1 AND owner = $2 FOR UPDATE`,
      [id, owner.toLowerCase()],
    );
    if (!rows[0]) notFound();
    if (!rows[0].usable)
      throw badUserInput("This API key is revoked or expired: create a new one with createApiKey.");
    const inserted = await client.query<ApiKey>(
      `INSERT INTO ${db.gateway}.api_keys (id, owner, name, secret_hash, scopes, expires_at)
       SELECT $1, owner, name, $2, scopes, now() + (expires_at - created_at)
         FROM ${db.gateway}.api_keys WHERE id = $3
       RETURNING ${columns}`,
      [newId, secretHash, id],
    );
    // The old key ends after the overlap (or sooner, if it was to expire sooner anyway).
    await client.query(
      `UPDATE ${db.gateway}.api_keys
          SET expires_at = least(coalesce(expires_at, 'infinity'), now() + make_interval(hours => $2::int))
        WHERE id = $1`,
      [id, overlapHours],
    );
    await client.query("COMMIT");
    return { apiKey: inserted.rows[0]!, key };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The principal of a valid key: well formed, known, the secret's hash equal (compared in constant time),
 * not revoked, not expired. Null for anything else (the caller answers as to any bad token). Records when
 * it was last used, at most once a minute per key.
 */
export async function authenticateApiKey(
  db: Database,
  key: string,
  now: Date = new Date(),
): Promise<ApiKeyPrincipal | null> {
  const match = keyForm.exec(key);
  if (!match) return null;
  const id = `key_${match[1]}`;
  const [row] = await db.query<{
    owner: Address;
    secretHash: string;
    scopes: ApiKeyScope[];
    expiresAt: Date | null;
    revokedAt: Date | null;
    lastUsedAt: Date | null;
  }>(
    `SELECT owner, secret_hash AS "secretHash", scopes, expires_at AS "expiresAt", revoked_at AS "revokedAt",
            last_used_at AS "lastUsedAt"
       FROM ${db.gateway}.api_keys WHERE id = $1`,
    [id],
  );
  if (!row) return null;
  const stored = Buffer.from(row.secretHash, "hex");
  const given = hashOf(match[2]!);
  if (stored.length !== given.length || !timingSafeEqual(stored, given)) return null;
  if (row.revokedAt !== null) return null;
  if (row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime()) return null;
  if (row.lastUsedAt === null || now.getTime() - row.lastUsedAt.getTime() >= lastUsedResolutionMs) {
    await db.query(
      `UPDATE ${db.gateway}.api_keys SET last_used_at = $2
        WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')`,
      [id, now],
    );
  }
  return { keyId: id, owner: row.owner, scopes: row.scopes, expiresAt: row.expiresAt };
}

/** Whether a key accepted earlier still is (a long-lived WebSocket re-checks it): not revoked, not expired. */
export async function apiKeyStillValid(db: Database, keyId: string): Promise<boolean> {
  const [row] = await db.query<{ valid: boolean }>(
    `SELECT revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AS valid
       FROM ${db.gateway}.api_keys WHERE id = $1`,
    [keyId],
  );
  return row?.valid ?? false;
}
