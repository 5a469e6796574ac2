// The seeded system the load runs against, shared by the seeder CLI, the runner and the smoke test:
// deployment -> ingest + projector (child processes) -> seeded chain -> projections caught up.
import { join } from "node:path";
import { type Deployment, deploymentId } from "./chain.ts";
import { type Say, seconds } from "./paths.ts";
import { Population, type PopulationSize, populationSize } from "./population.ts";
import { type ProjectedCounts, waitForProjections } from "./projections.ts";
import { JsonRpc } from "./rpc.ts";
import { type SeedReport, seedChain } from "./seed-chain.ts";
import { type PipelineNames, pipelineNames, type Service, startPipeline } from "./services.ts";
import { type Endpoints, ensureDeployment } from "./target.ts";

export type SystemOptions = {
  endpoints: Endpoints;
  cache: string;
  /** A contracts deployments file to load instead of the load tests' own deployment. */
  deploymentFile?: string;
  /** Deploy fresh contracts named by this salt (tests isolate themselves this way). */
  freshDeployment?: string;
  scale: number | PopulationSize;
  seed: string;
  mining: "bulk" | "automine";
  verify?: boolean;
  logsDir: string;
  catchUpTimeoutMs?: number;
  say: Say;
};

export type PreparedSystem = {
  rpc: JsonRpc;
  chainId: number;
  deployment: Deployment;
  deploymentFile: string;
  names: PipelineNames;
  population: Population;
  pipeline: Service[];
  seeding: SeedReport;
  catchUp: { ms: number; counts: ProjectedCounts };
  /** Stops ingest and the projector. */
  stop: () => Promise<void>;
};

export async function prepareSystem(options: SystemOptions): Promise<PreparedSystem> {
  const { say, endpoints } = options;
  const rpc = new JsonRpc(endpoints.rpcUrl);
  const chainId = Number(await rpc.call<string>("eth_chainId"));
  const { deployment, file } = await ensureDeployment({
    rpc,
    chainId,
    cache: options.cache,
    file: options.deploymentFile,
    fresh: options.freshDeployment,
    say,
  });
  const id = deploymentId(deployment);
  const names = pipelineNames(id);
  say(`deployment ${id}: topics ${names.topicPrefix}.*, schema ${names.schemaBase}`);
  const size = typeof options.scale === "number" ? populationSize(options.scale) : options.scale;
  // Accounts are per deployment: a device's nonce (its readings marker) and the roles must not carry over
  // from another deployment on the same chain.
  const population = new Population(`${options.seed}/${id}`, size);

  const started = Date.now();
  const pipeline = await startPipeline({
    rpcUrl: endpoints.rpcUrl,
    chainId,
    databaseUrl: endpoints.databaseUrl,
    kafkaBrokers: endpoints.kafkaBrokers,
    deploymentFile: file,
    names,
    logsDir: options.logsDir,
    say,
  });
  const stop = async () => {
    await Promise.all(pipeline.map((service) => service.stop()));
  };
  try {
    const seeding = await seedChain({
      rpc,
      deployment,
      population,
      mining: options.mining,
      markerFile: join(options.cache, "load-tests", String(chainId), `seeded-${id}.json`),
      verify: options.verify,
      say,
    });
    const catchUp = await waitForProjections({
      databaseUrl: endpoints.databaseUrl,
      schema: names.schemaBase,
      expected: size,
      say,
      timeoutMs: options.catchUpTimeoutMs,
      watch: pipeline,
    });
    say(`population ready through the pipeline in ${seconds(Date.now() - started)}`);
    return {
      rpc,
      chainId,
      deployment,
      deploymentFile: file,
      names,
      population,
      pipeline,
      seeding,
      catchUp,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
