import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "@carechain/common";
import { runner } from "node-pg-migrate";

const here = dirname(fileURLToPath(import.meta.url));

/** The projection tables (one copy per generation schema). */
export const projectionMigrationsDir = join(here, "migrations");
/** The generations registry (`<base>_meta`). */
export const metaMigrationsDir = join(here, "meta-migrations");

export type MigrateOptions = {
  databaseUrl: string;
  /** Schema to migrate; created when missing. Its own `pgmigrations` table records what ran there. */
  schema: string;
  dir?: string;
  logger?: Logger;
};

/**
 * Applies the SQL migrations of `dir` (node-pg-migrate, `-- Up Migration` / `-- Down Migration` files) into
 * `schema`. The only place that creates projection tables: every generation gets exactly the same DDL.
 * Returns the names of the migrations that ran.
 */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  const log = options.logger;
  const ran = await runner({
    databaseUrl: options.databaseUrl,
    dir: options.dir ?? projectionMigrationsDir,
    schema: options.schema,
    createSchema: true,
    migrationsTable: "pgmigrations",
    direction: "up",
    singleTransaction: true,
    // node-pg-migrate's lock is one well-known id for the whole database; one per schema lets tests and
    // generations migrate side by side.
    lockValue: lockIdOf(options.schema),
    logger: {
      debug: (msg: string) => log?.debug(msg),
      info: (msg: string) => log?.debug(msg),
      warn: (msg: string) => log?.warn(msg),
      error: (msg: string) => log?.error(msg),
    },
  });
  return ran.map((migration) => migration.name);
}

/** A stable 31-bit advisory lock id for a schema name. */
export function lockIdOf(name: string): number {
  let hash = 0x811c9dc5;
  for (const char of name) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return (hash >>> 1) + 1_000_000;
}
