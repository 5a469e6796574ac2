import type { Logger } from "@carechain/common";
import { ConfigError } from "@carechain/common";
import pg from "pg";
import { lockIdOf, metaMigrationsDir, migrate } from "./migrate.ts";
import { ident, inTransaction, type Pool, type PoolClient } from "./pool.ts";

/**
 * Schema layout of one deployment (base `carechain`):
 * - `carechain_p<N>`: generation N, the tables themselves (filled by one projector consumer group);
 * - `carechain_meta.projection_generations`: which generations exist and which one is active;
 * - `carechain`: the STABLE schema the gateway queries: views over the active generation's tables,
 *   replaced in one transaction when a rebuilt generation has caught up. Never written to by readers.
 */
export type SchemaNames = { stable: string; meta: string; generation: (n: number) => string };

export function schemaNames(base: string): SchemaNames {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(base)) {
    throw new ConfigError(`Invalid projection schema base ${JSON.stringify(base)}.`, {
      details: "Set PROJECTION_SCHEMA_BASE to lower-case letters, digits and underscores (at most 41).",
    });
  }
  return { stable: base, meta: `${base}_meta`, generation: (n) => `${base}_p${n}` };
}

/** Tables of a generation that are the projector's own bookkeeping, not part of the gateway's view. */
export const internalTables = new Set(["pgmigrations", "kafka_offsets", "event_undo", "dead_letters"]);

export type Generation = {
  generation: number;
  schema: string;
  groupId: string;
  status: "building" | "active" | "retired";
};

type GenerationRow = {
  generation: number;
  schema_name: string;
  group_id: string;
  status: Generation["status"];
};
const toGeneration = (row: GenerationRow): Generation => ({
  generation: row.generation,
  schema: row.schema_name,
  groupId: row.group_id,
  status: row.status,
});

export type SchemaContext = { pool: Pool; databaseUrl: string; base: string; logger?: Logger };

/** Kafka consumer group of a generation: a rebuild gets a fresh group so it reads every partition. */
export function generationGroupId(groupIdBase: string, generation: number): string {
  return `${groupIdBase}.p${generation}`;
}

/**
 * On first start: the meta schema, generation 1 and the stable views. On every start: pending migrations
 * for the active generation and views refreshed (a migration may add tables or columns). Serialized by an
 * advisory lock so that several processes can start at once.
 */
export async function ensureActiveGeneration(ctx: SchemaContext, groupIdBase: string): Promise<Generation> {
  const names = schemaNames(ctx.base);
  return withBaseLock(ctx, async () => {
    await migrate({
      databaseUrl: ctx.databaseUrl,
      schema: names.meta,
      dir: metaMigrationsDir,
      logger: ctx.logger,
    });
    let active = await getActiveGeneration(ctx.pool, ctx.base);
    if (!active) {
      const created = await createGeneration(ctx, groupIdBase);
      await activateGeneration(ctx, created.generation);
      active = { ...created, status: "active" };
    } else {
      await migrate({ databaseUrl: ctx.databaseUrl, schema: active.schema, logger: ctx.logger });
      await activateGeneration(ctx, active.generation);
    }
    return active;
  });
}

export async function getActiveGeneration(pool: Pool, base: string): Promise<Generation | null> {
  const { meta } = schemaNames(base);
  const { rows } = await pool.query<GenerationRow>(
    `SELECT generation, schema_name, group_id, status FROM ${ident(meta)}.projection_generations
     WHERE status = 'active'`,
  );
  return rows[0] ? toGeneration(rows[0]) : null;
}

export async function listGenerations(pool: Pool, base: string): Promise<Generation[]> {
  const { meta } = schemaNames(base);
  const { rows } = await pool.query<GenerationRow>(
    `SELECT generation, schema_name, group_id, status FROM ${ident(meta)}.projection_generations ORDER BY generation`,
  );
  return rows.map(toGeneration);
}

/** Registers generation max+1 as `building` and migrates its fresh schema (the meta schema must exist). */
export async function createGeneration(ctx: SchemaContext, groupIdBase: string): Promise<Generation> {
  const names = schemaNames(ctx.base);
  const generation = await inTransaction(ctx.pool, async (client) => {
    const { rows } = await client.query<{ next: number }>(
      `SELECT coalesce(max(generation), 0) + 1 AS next FROM ${ident(names.meta)}.projection_generations`,
    );
    const n = rows[0]!.next;
    const row: GenerationRow = {
      generation: n,
      schema_name: names.generation(n),
      group_id: generationGroupId(groupIdBase, n),
      status: "building",
    };
    await client.query(
      `INSERT INTO ${ident(names.meta)}.projection_generations (generation, schema_name, group_id, status)
       VALUES ($1, $2, $3, $4)`,
      [row.generation, row.schema_name, row.group_id, row.status],
    );
    return toGeneration(row);
  });
  await migrate({ databaseUrl: ctx.databaseUrl, schema: generation.schema, logger: ctx.logger });
  return generation;
}

/**
 * The switch: in ONE transaction, marks `generation` active (the previous one retired) and points every view
 * of the stable schema at its tables. Readers see either the old or the new generation, never a mix.
 */
export async function activateGeneration(ctx: SchemaContext, generation: number): Promise<void> {
  const names = schemaNames(ctx.base);
  await inTransaction(ctx.pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock($1)`, [lockIdOf(`${ctx.base}:switch`)]);
    await client.query(
      `UPDATE ${ident(names.meta)}.projection_generations
       SET status = 'retired' WHERE status = 'active' AND generation <> $1`,
      [generation],
    );
    await client.query(
      `UPDATE ${ident(names.meta)}.projection_generations
       SET status = 'active', activated_at = coalesce(activated_at, now()) WHERE generation = $1`,
      [generation],
    );
    await replaceViews(client, names.stable, names.generation(generation));
  });
}

async function replaceViews(client: PoolClient, stable: string, source: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${ident(stable)}`);
  const { rows } = await client.query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [source],
  );
  for (const { name } of rows) {
    if (internalTables.has(name)) continue;
    const view = `${ident(stable)}.${ident(name)}`;
    const body = `SELECT * FROM ${ident(source)}.${ident(name)}`;
    // CREATE OR REPLACE keeps views that others built on ours; it fails only when columns were dropped or
    // reordered, and then the view is recreated (still inside the same transaction).
    await client.query("SAVEPOINT view");
    try {
      await client.query(`CREATE OR REPLACE VIEW ${view} AS ${body}`);
      await client.query("RELEASE SAVEPOINT view");
    } catch {
      await client.query("ROLLBACK TO SAVEPOINT view");
      await client.query(`DROP VIEW IF EXISTS ${view}`);
      await client.query(`CREATE VIEW ${view} AS ${body}`);
    }
  }
}

/**
 * Runs `fn` holding a session advisory lock for this schema base (waits for other processes). The lock
 * lives on a connection of its own so that waiting for it never holds one of the pool's.
 */
async function withBaseLock<T>(ctx: SchemaContext, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [lockIdOf(`${ctx.base}:bootstrap`)]);
    return await fn();
  } finally {
    await client.end(); // ends the session, which releases the lock
  }
}
