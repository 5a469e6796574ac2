/**
 * Entry point of ingest (`npm run ingest -w indexer`): the only place that reads the environment.
 * Exit codes: 0 after a signal, 1 when ingest fails for good, 2 on invalid configuration.
 */
import { ConfigError, createCommon, parseConfig, startHealthServer } from "@carechain/common";
import { ingestEnvSchema, ingestOptionsFromEnv } from "./config.ts";
import { createIngest } from "./service.ts";

async function main(): Promise<void> {
  const { options, logLevel } = ingestOptionsFromEnv(parseConfig(ingestEnvSchema, process.env, "ingest"));
  const common = createCommon("ingest", options, { logLevel });
  common.shutdown.installSignalHandlers();
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
    await common.shutdown.run("failure");
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
}

main().catch((error: unknown) => {
  // Configuration errors name each variable to set: print them plainly, without a stack.
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
