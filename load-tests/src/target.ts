// What the load tests run against: the servers (given by URL, a running `npm start` / `npm run stack up`, or
// a stack started for the run) and the contracts' deployment on that chain.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NonRetryableError } from "@carechain/common";
import { identityRegistryAbi } from "@carechain/contracts/abis";
import { type Address, decodeFunctionResult, encodeFunctionData, type Hex, toHex } from "viem";
import {
  type Deployment,
  deployContracts,
  deploymentFileFor,
  deploymentIsLive,
  readDeploymentFile,
  writeDeploymentFile,
} from "./chain.ts";
import type { Say } from "./paths.ts";
import type { JsonRpc } from "./rpc.ts";

export class TargetError extends NonRetryableError {}

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

/**
 * The deployment to load: the given deployments file (contracts' `deployments/<chainId>.json` format), else
 * the one the load tests made earlier on this chain if it is still there, else a fresh deployment.
 * Returns the deployment and the file ingest should read (written in the cache, in ingest's format).
 */
export async function ensureDeployment(options: {
  rpc: JsonRpc;
  chainId: number;
  cache: string;
  file?: string;
  /** Deploy afresh even if a deployment is remembered (tests: each their own contracts). */
  fresh?: string;
  say: Say;
}): Promise<{ deployment: Deployment; file: string }> {
  const { rpc, say } = options;
  if (options.file) {
    const given = readDeploymentFile(options.file);
    if (!given) throw new TargetError(`no deployments file at ${options.file}`);
    const deployment = await completeDeployment(rpc, given);
    if (!(await deploymentIsLive(rpc, deployment))) {
      throw new TargetError(`the contracts of ${options.file} are not on the chain at ${rpc.url}`);
    }
    const file = join(options.cache, "load-tests", String(options.chainId), "given-deployment.json");
    writeDeploymentFile(file, deployment);
    say(`using the deployment of ${options.file}`);
    return { deployment, file };
  }
  const file = options.fresh
    ? join(options.cache, "load-tests", String(options.chainId), `deployment-${options.fresh}.json`)
    : deploymentFileFor(options.cache, options.chainId);
  const remembered = options.fresh ? undefined : readDeploymentFile(file);
  if (remembered && (await deploymentIsLive(rpc, remembered))) {
    say(
      `reusing the load tests' deployment (IdentityRegistry ${remembered.contracts.IdentityRegistry.address})`,
    );
    return { deployment: remembered, file };
  }
  const deployment = await deployContracts(rpc, options.fresh ?? `${Date.now()}`, say);
  writeDeploymentFile(file, deployment);
  return { deployment, file };
}

/** Fills in what a contracts deployments file may lack: the start block's hash and the registry's owner. */
async function completeDeployment(rpc: JsonRpc, given: Deployment): Promise<Deployment> {
  const startBlock = given.startBlock ?? given.contracts.IdentityRegistry.startBlock ?? 0;
  const [block, owner] = await rpc.batch([
    { method: "eth_getBlockByNumber", params: [toHex(startBlock), false] },
    {
      method: "eth_call",
      params: [
        {
          to: given.contracts.IdentityRegistry.address,
          data: encodeFunctionData({ abi: identityRegistryAbi, functionName: "owner" }),
        },
        "latest",
      ],
    },
  ]);
  const hash = (block?.result as { hash?: Hex } | null)?.hash;
  if (!hash) throw new TargetError(`block ${startBlock} of the deployment is not on this chain`);
  return {
    ...given,
    startBlock,
    startBlockHash: given.startBlockHash ?? hash,
    owner:
      given.owner ??
      (decodeFunctionResult({
        abi: identityRegistryAbi,
        functionName: "owner",
        data: owner?.result as Hex,
      }) as Address),
  };
}
