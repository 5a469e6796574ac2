/**
 * Rebuild (`npm run rebuild -w indexer`): replays the events topic from offset 0 into a FRESH generation
 * schema (`<base>_p<N+1>`) with a fresh consumer group, and switches the stable views to it only once it has
 * caught up (lag 0 on every partition). Until then the gateway keeps reading the old generation; afterwards
 * the running projector notices the new active generation and continues there from its stored offsets.
 * The old schema is kept (status `retired`) for comparison; drop it by hand when no longer wanted.
 */
import { type Common, createCommon, runMain } from "@carechain/common";
import { createPool } from "../database/pool.ts";
import {
  activateGeneration,
  createGeneration,
  ensureActiveGeneration,
  type Generation,
  type SchemaContext,
} from "../database/schemas.ts";
import { projectorOptionsFromEnv } from "./config.ts";
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

// Ctrl-C stops the catch-up (the fresh generation stays unused, as `building`) and exits 130.
runMain(
  async (ctx) => {
    const { options, logLevel } = projectorOptionsFromEnv(ctx.env, "rebuild");
    const common = createCommon("projector-rebuild", options, { logLevel });
    ctx.onStop((reason) => common.shutdown.run(reason));
    const result = await rebuild(common);
    process.stdout.write(
      `rebuilt ${result.generation.schema} in ${result.seconds.toFixed(1)} s; views of ${options.schemaBase} ` +
        `now read it (previous: ${result.previous.schema}, kept)\n`,
    );
    return 0;
  },
  { entry: import.meta.url, signalExitCode: 130 },
);
