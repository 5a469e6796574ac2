// The seeded system the load runs against, shared by the seeder CLI, the runner and the smoke test:
// the deployment (contracts') -> the system on it (system's startSystem: ingest, projector, gateway in one
// process) -> seeded chain -> projections caught up.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Deployment, deploymentId, ensureDeployment, readDeploymentFile } from "@carechain/contracts";
import { loadSystemConfig, type RunningSystem, type SystemNames, startSystem } from "@carechain/system";
import { keccak256, toHex } from "viem";
import { privateKeyToAddress } from "viem/accounts";
import { prepareAccounts } from "./chain.ts";
import { type Say, seconds } from "./paths.ts";
import { Population, type PopulationSize, populationSize } from "./population.ts";
import { type ProjectedCounts, waitForProjections } from "./projections.ts";
import { JsonRpc } from "./rpc.ts";
import { type SeedReport, seedChain } from "./seed-chain.ts";
import type { Endpoints } from "./target.ts";

export type SystemOptions = {
  endpoints: Endpoints;
  cache: string;
  /** A contracts deployments file to load instead of the load tests' own deployment. */
  deploymentFile?: string;
  /** Deploy fresh contracts named by this salt (tests isolate themselves this way). */
  freshDeployment?: string;
  scale: number | PopulationSize;
  seed: string;
  /** The gateway's answer cache (on by default, as `npm start` runs it); off to measure execution alone. */
  answerCache?: boolean;
  mining: "bulk" | "automine";
  verify?: boolean;
  /** The services' logs (<workDir>/logs) and run state. */
  workDir: string;
  catchUpTimeoutMs?: number;
  say: Say;
  /** Aborting (Ctrl-C) stops whatever was started. */
  signal?: AbortSignal;
  /** Told how to stop the system as soon as it runs (an entry point's runMain stop step). */
  onStop?: (step: () => Promise<void>) => void;
};

export type PreparedSystem = {
  rpc: JsonRpc;
  chainId: number;
  deployment: Deployment;
  deploymentFile: string;
  names: SystemNames;
  population: Population;
  system: RunningSystem;
  /** The gateway's base URL (POST /graphql, /auth/*). */
  gatewayUrl: string;
  seeding: SeedReport;
  catchUp: { ms: number; counts: ProjectedCounts };
  /** Stops the services. */
  stop: () => Promise<void>;
};

/** The names the system of one deployment uses, so that two deployments never share topics or schemas. */
function systemNames(id: string): SystemNames {
  return {
    topicPrefix: `carechain-load-${id}`,
    groupId: `carechain-load-${id}`,
    projectionSchemaBase: `load_${id}`,
    gatewaySchema: `load_${id}_gateway`,
  };
}

// k6 sends hundreds of requests a second from this one address, and signs in hundreds of viewers: the rate
// limits stay on (their cost is measured) but far above what the scenarios send.
const gatewaySettings = {
  JWT_TTL_SECONDS: 14_400,
  RATE_LIMIT_NONCE_PER_IP: "100000/60s",
  RATE_LIMIT_VERIFY_PER_IP: "100000/60s",
  RATE_LIMIT_GRAPHQL_PER_IP: "1000000/10s",
  RATE_LIMIT_GRAPHQL_PER_ACCOUNT: "1000000/10s",
};

export async function prepareSystem(options: SystemOptions): Promise<PreparedSystem> {
  const { say, endpoints } = options;
  const rpc = new JsonRpc(endpoints.rpcUrl);
  const chainId = Number(await rpc.call<string>("eth_chainId"));
  const { deployment, file } = await loadDeployment(rpc, chainId, options);
  const id = deploymentId(deployment);
  const names = systemNames(id);
  say(`deployment ${id}: topics ${names.topicPrefix}.*, schema ${names.projectionSchemaBase}`);
  const size = typeof options.scale === "number" ? populationSize(options.scale) : options.scale;
  // Accounts are per deployment: a device's nonce (its readings marker) and the roles must not carry over
  // from another deployment on the same chain.
  const population = new Population(`${options.seed}/${id}`, size);

  const started = Date.now();
  const base = loadSystemConfig({ CARECHAIN_CACHE_DIR: options.cache });
  const system = await startSystem({
    config: {
      ...base,
      dataDir: options.workDir,
      demo: false,
      names,
      ports: {
        gateway: 0,
        identity: 0,
        records: 0,
        vitals: 0,
        ingestHealth: 0,
        projectorHealth: 0,
        gatewayMetrics: 0,
        delivery: 0,
        web: 0,
      },
      jwtSecret: randomBytes(32).toString("hex"),
      pollIntervalMs: 200,
      logLevel: "warn",
      serviceStartTimeoutMs: 90_000,
    },
    servers: endpoints,
    deployment: { kind: "file", file },
    gateway: "single",
    gatewaySettings: {
      ...gatewaySettings,
      ...(options.answerCache === false ? { ANSWER_CACHE_ENTRIES: 0 } : {}),
    },
    log: { info: say, warn: say, error: say },
    onStage: say,
    signal: options.signal,
  });
  options.onStop?.(() => system.stop());
  let failure: Error | undefined;
  system.onCrash((error) => {
    failure ??= error;
  });
  const stop = () => system.stop();
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
      schema: names.projectionSchemaBase,
      expected: size,
      say,
      timeoutMs: options.catchUpTimeoutMs,
      failed: () => failure,
    });
    say(`population ready through the pipeline in ${seconds(Date.now() - started)}`);
    return {
      rpc,
      chainId,
      deployment,
      deploymentFile: file,
      names,
      population,
      system,
      gatewayUrl: system.gatewayUrl,
      seeding,
      catchUp,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The deployment to load: the given deployments file, else the one the load tests made earlier on this chain
 * while it is there, else a fresh one (contracts' ensureDeployment). The deployer derives from a salt and is
 * funded with anvil_setBalance, so that it never races other users of anvil's unlocked accounts for nonces.
 */
async function loadDeployment(
  rpc: JsonRpc,
  chainId: number,
  options: SystemOptions,
): Promise<{ deployment: Deployment; file: string }> {
  if (options.deploymentFile) {
    options.say(`using the deployment of ${options.deploymentFile}`);
    return { deployment: readDeploymentFile(options.deploymentFile), file: options.deploymentFile };
  }
  const salt = options.freshDeployment ?? `${Date.now()}`;
  const privateKey = keccak256(toHex(`carechain-load-tests:deployer:${salt}`));
  await prepareAccounts(rpc, [privateKeyToAddress(privateKey)]);
  const dir = join(options.cache, "load-tests", ...(options.freshDeployment ? [`fresh-${salt}`] : []));
  const { deployment, file, deployed } = await ensureDeployment({
    rpcUrl: rpc.url,
    chainId,
    dir,
    privateKey,
    stage: options.say,
  });
  if (!deployed) {
    options.say(
      `reusing the load tests' deployment (IdentityRegistry ${deployment.contracts.IdentityRegistry.address})`,
    );
  }
  return { deployment, file };
}
