// The servers the load tests run against: given by URL, or a running `npm start` / `npm run stack up` (run.ts
// starts a stack for the run when there is neither).
import { endpointsFile, readEndpointsFile } from "@carechain/stack";

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
  const running = readEndpointsFile(cache); // the stack's own reader: undefined when that `stack up` is gone
  if (!running) return undefined;
  return {
    rpcUrl: env.rpcUrl ?? running.rpcUrl,
    databaseUrl: env.databaseUrl ?? running.databaseUrl,
    kafkaBrokers: env.kafkaBrokers ?? running.kafkaBrokers,
    source: `the running stack (pid ${running.pid}, ${endpointsFile(cache)})`,
  };
}
