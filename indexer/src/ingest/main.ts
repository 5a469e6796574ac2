/**
 * Entry point of ingest (`npm run ingest -w indexer`): the only place that reads the environment.
 * Exit codes: 0 after a signal, 1 when ingest fails for good, 2 on invalid configuration.
 */
import { createCommon, runMain, startHealthServer } from "@carechain/common";
import { ingestOptionsFromEnv } from "./config.ts";
import { createIngest } from "./service.ts";

runMain(
  async (ctx) => {
    const { options, logLevel } = ingestOptionsFromEnv(ctx.env);
    const common = createCommon("ingest", options, { logLevel });
    ctx.onStop((reason) => common.shutdown.run(reason));
    const ingest = createIngest(common);
    const server = await startHealthServer({
      port: options.healthPort,
      metrics: common.metrics,
      checks: { ingest: ingest.health },
    });
    common.shutdown.add("health server", server.close);
    common.logger.info({ url: server.url }, "health and metrics server listening");
    try {
      await ingest.start();
      await ingest.done;
    } catch (error) {
      common.logger.fatal({ err: error }, "ingest failed");
      throw error;
    }
  },
  { entry: import.meta.url },
);
