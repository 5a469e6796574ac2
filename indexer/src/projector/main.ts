/**
 * Entry point of the projector (`npm run project -w indexer`): the only place that reads the environment.
 * Exit codes: 0 after a signal, 1 when the projector fails for good, 2 on invalid configuration.
 */
import { createCommon, runMain, startHealthServer } from "@carechain/common";
import { projectorOptionsFromEnv } from "./config.ts";
import { createProjector } from "./service.ts";

runMain(
  async (ctx) => {
    const { options, logLevel } = projectorOptionsFromEnv(ctx.env);
    const common = createCommon("projector", options, { logLevel });
    ctx.onStop((reason) => common.shutdown.run(reason));
    const kill = options.killBeforeCommitOfBatch;
    const projector = createProjector(common, {
      // Test hook: die like `kill -9` with the batch's rows written but not committed.
      beforeCommit: kill
        ? (batch) => (batch === kill ? void process.kill(process.pid, "SIGKILL") : undefined)
        : undefined,
    });
    const server = await startHealthServer({
      port: options.healthPort,
      metrics: common.metrics,
      checks: { projector: projector.health },
    });
    common.shutdown.add("health server", server.close);
    common.logger.info({ url: server.url }, "health and metrics server listening");
    try {
      common.shutdown.add("projector", projector.stop);
      await projector.start();
    } catch (error) {
      common.logger.fatal({ err: error }, "projector failed");
      throw error;
    }
  },
  { entry: import.meta.url },
);
