// The servers the load tests run against: given by URL, or a running `npm start` / `npm run stack up` (run.ts
// starts a stack for the run when there is neither).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type Endpoints = {
  rpcUrl: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  /** Where they came from, for the report. */
  source: string;
};

/** Endpoints given in the environment (all three), else those of a running `stack up`, else undefined. */
export function findEndpoints(
  env: { rpcUrl?: string; databaseUrl?: string; kafkaBrokers?: string[] },
  cache: string,
): Endpoints | undefined {
  if (env.rpcUrl && env.databaseUrl && env.kafkaBrokers) {
    return {
      rpcUrl: env.rpcUrl,
      databaseUrl: env.databaseUrl,
      kafkaBrokers: env.kafkaBrokers,
      source: "environment",
    };
  }
  const file = join(cache, "stack", "endpoints.json");
  if (!existsSync(file)) return undefined;
  try {
    const json = JSON.parse(readFileSync(file, "utf8")) as {
      pid: number;
      rpcUrl: string;
      databaseUrl: string;
      kafkaBrokers: string[];
    };
    process.kill(json.pid, 0); // throws when that `stack up` is gone
    return {
      rpcUrl: env.rpcUrl ?? json.rpcUrl,
      databaseUrl: env.databaseUrl ?? json.databaseUrl,
      kafkaBrokers: env.kafkaBrokers ?? json.kafkaBrokers,
      source: `the running stack (pid ${json.pid}, ${file})`,
    };
  } catch {
    return undefined;
  }
}
