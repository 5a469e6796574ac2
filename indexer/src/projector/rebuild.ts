/**
 * Rebuild (`npm run rebuild -w indexer`): replays the events topic from offset 0 into a FRESH generation
 * schema (`<base>_p<N+1>`) with a fresh consumer group, and switches the stable views to it only once it has
 * caught up (lag 0 on every partition). Until then the gateway keeps reading the old generation; afterwards
 * the running projector notices the new active generation and continues there from its stored offsets.
 * The old schema is kept (status `retired`) for comparison; drop it by hand when no longer wanted.
 */
import { pathToFileURL } from "node:url";
import { type Common, ConfigError, createCommon, parseConfig } from "@carechain/common";
import { createPool } from "../database/pool.ts";
import {
  activateGeneration,
  createGeneration,
  ensureActiveGeneration,
  type Generation,
  type SchemaContext,
} from "../database/schemas.ts";
import { projectorEnvSchema, projectorOptionsFromEnv } from "./config.ts";
import { createProjector, type ProjectorOptions, type ProjectorSettings } from "./service.ts";

export type RebuildResult = { previous: Generation; generation: Generation; seconds: number };

export async function rebuild(
  common: Common<ProjectorOptions>,
  settings: { catchUpTimeoutMs?: number; onBatch?: ProjectorSettings["onBatch"] } = {},
): Promise<RebuildResult> {
  const { options, logger } = common;
  const started = performance.now();
  const pool = createPool(options.databaseUrl, { applicationName: "carechain-rebuild" });
  const ctx: SchemaContext = { pool, databaseUrl: options.databaseUrl, base: options.schemaBase, logger };
  try {
    const previous = await ensureActiveGeneration(ctx, options.groupId);
    const generation = await createGeneration(ctx, options.groupId);
    logger.info(
      { from: previous.generation, to: generation.generation },
      "rebuilding into a fresh generation",
    );
    const projector = createProjector(common, { generation, onBatch: settings.onBatch });
    try {
      await projector.start();
      await projector.waitForCatchUp({ timeoutMs: settings.catchUpTimeoutMs ?? 3_600_000, pollMs: 250 });
      await activateGeneration(ctx, generation.generation);
    } finally {
      await projector.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    logger.info({ generation: generation.generation, seconds }, "rebuilt generation is now active");
    return { previous, generation: { ...generation, status: "active" }, seconds };
  } finally {
    await pool.end();
  }
}

async function main(): Promise<void> {
  const { options, logLevel } = projectorOptionsFromEnv(
    parseConfig(projectorEnvSchema, process.env, "rebuild"),
  );
  const common = createCommon("projector-rebuild", options, { logLevel });
  const result = await rebuild(common);
  process.stdout.write(
    `rebuilt ${result.generation.schema} in ${result.seconds.toFixed(1)} s; views of ${options.schemaBase} ` +
      `now read it (previous: ${result.previous.schema}, kept)\n`,
  );
  process.exit(0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
