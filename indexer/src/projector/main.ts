/**
 * Entry point of the projector (`npm run project -w indexer`): the only place that reads the environment.
 * Exit codes: 0 after a signal, 1 when the projector fails for good, 2 on invalid configuration.
 */
import { ConfigError, createCommon, parseConfig, startHealthServer } from "@carechain/common";
import { projectorEnvSchema, projectorOptionsFromEnv } from "./config.ts";
import { createProjector } from "./service.ts";

async function main(): Promise<void> {
  const { options, logLevel } = projectorOptionsFromEnv(
    parseConfig(projectorEnvSchema, process.env, "projector"),
  );
  const common = createCommon("projector", options, { logLevel });
  common.shutdown.installSignalHandlers();
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
    await common.shutdown.run("failure");
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
}

main().catch((error: unknown) => {
  // Configuration errors name each variable to set: print them plainly, without a stack.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
