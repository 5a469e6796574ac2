import { describe, expect, test } from "vitest";
import { getActiveGeneration, listGenerations } from "../database/schemas.ts";
import { rebuild } from "./rebuild.ts";
import { referenceFold } from "./reference-fold.ts";
import { createProjector } from "./service.ts";
import { generateEvents } from "./testing/generate.ts";
import { createProjectorWorld } from "./testing/harness.ts";

describe("rebuild", () => {
  test("default", async () => {
    const world = await createProjectorWorld("rebuild");
    const live = createProjector(world.common(), { generationPollMs: 200 });
    try {
      const stream = generateEvents(4, 1_600);
      const [first, later] = [stream.slice(0, 1_200), stream.slice(1_200)];
      await world.produce(first, 100);
      await live.start();
      await live.waitForCatchUp({ timeoutMs: 30_000 });
      const base = world.options.schemaBase;
      const incremental = await world.dump(`${base}_p1`);

      // Small transactions and fetches: the rebuild takes many batches; after each, the views must still
      // read generation 1.
      const viewSources: string[] = [];
      const result = await rebuild(
        { ...world.common("rebuild"), options: { ...world.options, fetchMaxBytesPerPartition: 8_192 } },
        {
          onBatch: async () => {
            const { rows } = await world.pool.query(
              `SELECT definition FROM pg_views WHERE schemaname = $1 AND viewname = 'records'`,
              [base],
            );
            viewSources.push(/FROM (\w+)\.records/.exec(rows[0].definition)?.[1] ?? "?");
          },
        },
      );
      expect(result.generation).toMatchObject({ generation: 2, schema: `${base}_p2` });
      expect(viewSources.length).toBeGreaterThan(3);
      expect(new Set(viewSources)).toEqual(new Set([`${base}_p1`]));
      expect(await world.dump(`${base}_p2`)).toEqual(incremental);
      expect((await getActiveGeneration(world.pool, base))?.generation).toBe(2);
      expect((await listGenerations(world.pool, base)).map((g) => g.status)).toEqual(["retired", "active"]);
      const viaViews = await world.pool.query(`SELECT count(*)::int AS n FROM ${base}.records`);
      expect(viaViews.rows[0].n).toBe(incremental.records.length);

      // The running projector follows the new active generation and keeps it up to date.
      await world.produce(later);
      await expect.poll(() => live.generation()?.generation, { timeout: 10_000 }).toBe(2);
      await live.waitForCatchUp({ timeoutMs: 30_000 });
      expect(await world.dump(`${base}_p2`)).toEqual(referenceFold(stream));
    } finally {
      await live.stop();
      await world.cleanup();
    }
  });
});
