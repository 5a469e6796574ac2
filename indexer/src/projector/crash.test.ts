import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createCommon, createSilentLogger } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { referenceFold } from "./reference-fold.ts";
import { createProjector } from "./service.ts";
import { generateEvents } from "./testing/generate.ts";
import { createProjectorWorld } from "./testing/harness.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const main = fileURLToPath(new URL("./main.ts", import.meta.url));

describe("projector process", () => {
  test("behavior: kill -9 between the row writes and the COMMIT, then a restart, equals a clean run", async () => {
    const world = await createProjectorWorld("crash", 2);
    const children: ChildProcess[] = [];
    const cleanOptions = {
      ...world.options,
      schemaBase: `${world.options.schemaBase}_clean`,
      groupId: "clean",
    };
    const clean = createProjector(createCommon("clean", cleanOptions, { logger: createSilentLogger() }));
    try {
      const stream = generateEvents(5, 800);
      await world.produce(stream, 40); // many small record batches, so many projector batches
      const env = (extra: Record<string, string>) => ({
        PATH: process.env.PATH,
        DATABASE_URL: world.options.databaseUrl,
        KAFKA_BROKERS: world.options.kafkaBrokers.join(","),
        KAFKA_TOPIC_PREFIX: world.options.topicPrefix,
        PROJECTION_SCHEMA_BASE: world.options.schemaBase,
        PROJECTOR_HEALTH_PORT: "0",
        PROJECTOR_FETCH_MAX_BYTES: "4096",
        LOG_LEVEL: "fatal",
        ...extra,
      });
      const run = (extra: Record<string, string>) => {
        // `node --import tsx` (what the tsx CLI does, minus its wrapper process): the signal reaches us as is.
        const child = spawn(process.execPath, ["--import", "tsx", main], {
          cwd: repo,
          env: env(extra),
          stdio: ["ignore", "ignore", "inherit"],
        });
        children.push(child);
        return child;
      };

      const killed = run({ KAFKA_GROUP_ID: "first", PROJECTOR_TEST_KILL_BEFORE_COMMIT_OF_BATCH: "4" });
      // Meanwhile, the clean run: an in-process projector into another schema base, same topic.
      await clean.start();
      await clean.waitForCatchUp({ timeoutMs: 30_000 });
      const expected = await world.dump(`${cleanOptions.schemaBase}_p1`);
      expect(expected).toEqual(referenceFold(stream));

      const [code, signal] = await once(killed, "exit");
      expect({ code, signal }).toEqual({ code: null, signal: "SIGKILL" });
      const crashed = await world.dump();
      expect(crashed.events.length).toBeGreaterThan(0); // three batches committed, the fourth rolled back
      expect(crashed.events.length).toBeLessThan(expected.events.length);

      // A restart (a fresh group, even: the offsets that count are the ones stored with the rows).
      const restarted = run({ KAFKA_GROUP_ID: "second" });
      // A fresh Node process that loads tsx, joins the group and replays: 20 s on a quiet machine, more than
      // 30 s on a busy CI one; the deadline is for a hang, not for speed.
      await expect.poll(() => world.dump(), { timeout: 90_000, interval: 300 }).toEqual(expected);
      restarted.kill("SIGTERM");
      const [exitCode] = await once(restarted, "exit");
      expect(exitCode).toBe(0);
    } finally {
      for (const child of children)
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await clean.stop();
      await world.cleanup();
    }
  }, 180_000);
});
