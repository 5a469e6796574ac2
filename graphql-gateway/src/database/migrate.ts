import { fileURLToPath } from "node:url";
import { runner } from "node-pg-migrate";
import type { Database } from "./pool.ts";

const migrationsDir = fileURLToPath(new URL("./migrations/", import.meta.url));

/**
 * Creates or updates the gateway-owned schema (nonces, audit log, documents) with node-pg-migrate. Several
 * gateway processes may start at once: node-pg-migrate's own lock refuses the others ("Another migration
 * is already running"), so they wait here for a session lock instead and then find nothing left to do.
 * Returns the names of the migrations that ran.
 */
export async function migrateGatewaySchema(db: Database): Promise<string[]> {
  const client = await db.pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtext($1))", [`carechain-gateway:${db.gatewaySchema}`]);
    const ran = await runner({
      dbClient: client,
      noLock: true,
      dir: migrationsDir,
      schema: db.gatewaySchema,
      createSchema: true,
      // Its own table: the gateway schema may be the projector's (tests), whose `pgmigrations` lists others.
      migrationsTable: "gateway_migrations",
      direction: "up",
      singleTransaction: true,
      log: () => {},
    });
    return ran.map((migration) => migration.name);
  } finally {
    // Destroyed, not returned to the pool: that ends the session's advisory lock and its search_path.
    client.release(true);
  }
}
