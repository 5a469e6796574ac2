import { readdir, readFile } from "node:fs/promises";
import type { Database } from "./pool.ts";

const migrationsDir = new URL("./migrations/", import.meta.url);

/** The `-- Up Migration` part of a node-pg-migrate style SQL file. */
export function upMigrationSql(text: string): string {
  const start = text.indexOf("-- Up Migration");
  const end = text.indexOf("-- Down Migration");
  return text.slice(start === -1 ? 0 : start, end === -1 ? undefined : end);
}

/**
 * Creates or updates the gateway-owned schema (nonces, audit log). Several gateway instances may start at
 * once: a transaction-scoped advisory lock makes them take turns, and applied files are recorded.
 */
export async function migrateGatewaySchema(db: Database): Promise<string[]> {
  const files = (await readdir(migrationsDir)).filter((name) => name.endsWith(".sql")).sort();
  const client = await db.pool.connect();
  const applied: string[] = [];
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `carechain-gateway:${db.gatewaySchema}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${db.gateway}`);
    await client.query(`SET LOCAL search_path TO ${db.gateway}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${db.gateway}.migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ name: string }>(`SELECT name FROM ${db.gateway}.migrations`)).rows.map(
        (r) => r.name,
      ),
    );
    for (const file of files) {
      if (done.has(file)) continue;
      await client.query(upMigrationSql(await readFile(new URL(file, migrationsDir), "utf8")));
      await client.query(`INSERT INTO ${db.gateway}.migrations (name) VALUES ($1)`, [file]);
      applied.push(file);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
