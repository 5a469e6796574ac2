import { randomBytes } from "node:crypto";
import type { Database } from "../database/pool.ts";

/**
 * Sign-in nonces in PostgreSQL, so that every gateway instance accepts a nonce issued by any other, and
 * each nonce is used once: consuming it is a single DELETE ... RETURNING, which only one caller can win.
 */
export class NonceStore {
  constructor(
    private readonly db: Database,
    private readonly ttlSeconds: number,
  ) {}

  async issue(): Promise<{ nonce: string; expiresAt: Date }> {
    // 128 random bits as hex: alphanumeric, as EIP-4361 requires (viem's generateSiweNonce uses Math.random).
    const nonce = randomBytes(16).toString("hex");
    const rows = await this.db.query<{ expires_at: Date }>(
      `INSERT INTO ${this.db.gateway}.siwe_nonces (nonce, expires_at)
       VALUES ($1, now() + make_interval(secs => $2)) RETURNING expires_at`,
      [nonce, this.ttlSeconds],
    );
    return { nonce, expiresAt: rows[0]!.expires_at };
  }

  /** True once for an issued, unexpired nonce; false for unknown, used or expired ones. */
  async consume(nonce: string): Promise<boolean> {
    const rows = await this.db.query(
      `DELETE FROM ${this.db.gateway}.siwe_nonces WHERE nonce = $1 AND expires_at > now() RETURNING nonce`,
      [nonce],
    );
    return rows.length === 1;
  }

  /** Housekeeping: expired nonces can never be used. */
  async deleteExpired(): Promise<number> {
    const rows = await this.db.query(
      `DELETE FROM ${this.db.gateway}.siwe_nonces WHERE expires_at <= now() RETURNING nonce`,
    );
    return rows.length;
  }
}
