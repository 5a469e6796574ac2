// Vitest global setup: starts the stack ONCE per test run, in a fresh data folder of its own (so it never
// collides with a running `npm start`), hands its endpoints to the tests (inject("stack")) and tears it
// all down at the end. A server that dies during the run is reported at once, with its log tail.
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { parseConfig, stackStateDir } from "./config.ts";
import type { ServerExitedError } from "./errors.ts";
import { createLogger } from "./logger.ts";
import "./provided-context.ts";
import { runFolderName, sweepStaleRuns } from "./run-state.ts";
import { startStack } from "./stack.ts";

export default async function setup(project: TestProject) {
  const log = createLogger("stack");
  const config = parseConfig(process.env);
  const runsDir = join(stackStateDir(config.cacheDir), "test-runs");
  sweepStaleRuns(runsDir); // folders (and servers) of earlier runs that were killed before teardown
  const dataDir = join(runsDir, runFolderName("vitest"));

  const stack = await startStack({ ...config, dataDir, log, stopTimeoutMs: 10_000 });
  const timings = stack.servers.map((s) => `${s.name} ${(s.startupMs / 1000).toFixed(1)} s`).join(", ");
  log.info(
    `ready in ${(stack.startupMs / 1000).toFixed(1)} s (${timings}); logs in ${join(dataDir, "logs")}`,
  );

  const crashes: ServerExitedError[] = [];
  stack.onCrash((error) => {
    crashes.push(error);
    log.error(`a server of the test stack died; tests that use it will fail:\n${error.message}`);
  });
  project.provide("stack", stack.endpoints);

  return async () => {
    await stack.stop();
    if (crashes.length > 0) {
      log.error(
        `${crashes.map((c) => c.server).join(", ")} crashed during the run; logs kept in ${dataDir}/logs`,
      );
    } else {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
}
