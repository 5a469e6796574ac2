import pg from "pg";

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

/**
 * A PostgreSQL pool for the indexer. Sessions run in UTC so that timestamps read back as JSON
 * (`to_jsonb`) have one stable form.
 */
export function createPool(
  databaseUrl: string,
  options: { max?: number; applicationName?: string } = {},
): Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 4,
    application_name: options.applicationName ?? "carechain-indexer",
    options: "-c TimeZone=UTC",
  });
  // An idle client whose server went away (PostgreSQL restarting) must not crash the process: the pool
  // drops it, and the next query connects again (or fails, and health says so).
  pool.on("error", () => {});
  return pool;
}

/** Runs `fn` in one transaction on a pooled client; rolls back on error. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** A quoted identifier (schema, table), for names that come from configuration. */
export function ident(name: string): string {
  return pg.escapeIdentifier(name);
}
