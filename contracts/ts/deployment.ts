// The deployments file (deployments/<chainId>.json): the one type, schema, reader and writer. Addresses are
// checksummed in memory and on disk; only watchedContracts lower-cases them (ingest compares log addresses).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Address,
  BlockNotFoundError,
  createPublicClient,
  getAddress,
  type Hex,
  http,
  keccak256,
  toHex,
} from "viem";
import { z } from "zod";
import { contractNames } from "../generated/abis.ts";
import { DeploymentFileError } from "./errors.ts";

export { contractNames };
export type ContractName = (typeof contractNames)[number];

/** contracts/deployments/, where deployments/<chainId>.json files live unless a directory is given. */
export const defaultDeploymentsDir = resolve(dirname(fileURLToPath(import.meta.url)), "..", "deployments");

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, "an 0x-prefixed 20-byte hex address")
  .transform((value) => getAddress(value));
const blockNumber = z.number().int().nonnegative();
const deployedContract = z.object({ address, startBlock: blockNumber });

export const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  /** The first block holding one of the contracts: where indexers start. */
  startBlock: blockNumber,
  deployedAt: z.iso.datetime(),
  /** Hash of startBlock: a restarted chain with the same addresses is another deployment. */
  startBlockHash: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "an 0x-prefixed 32-byte hex block hash")
    .transform((value) => value.toLowerCase() as Hex)
    .optional(),
  /** The deployer: IdentityRegistry's owner (sets registrars). */
  admin: address.optional(),
  contracts: z.object({
    IdentityRegistry: deployedContract,
    ConsentManager: deployedContract,
    RecordRegistry: deployedContract,
    VitalsMonitor: deployedContract,
  }),
});

export type Deployment = z.output<typeof deploymentSchema>;
/** What ingest watches: every contract address (lower-case, sorted), from the earliest start block. */
export type WatchedContracts = { addresses: Address[]; startBlock: number };

export function deploymentPath(chainId: number, dir: string = defaultDeploymentsDir): string {
  return join(dir, `${chainId}.json`);
}

/** Reads and validates deployments/<chainId>.json (which must be for chain `chainId`). */
export function readDeployment(chainId: number, dir: string = defaultDeploymentsDir): Deployment {
  const file = deploymentPath(chainId, dir);
  const deployment = readDeploymentFile(file);
  if (deployment.chainId !== chainId)
    throw new DeploymentFileError(`${file} is for chain ${deployment.chainId}, not chain ${chainId}.`);
  return deployment;
}

/** Reads and validates a deployments file. */
export function readDeploymentFile(file: string): Deployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new DeploymentFileError(`No readable deployments file at ${file}.`, {
      details: `${(error as Error).message}; deploy with \`npm run deploy -w contracts\`.`,
    });
  }
  return parseDeployment(raw, file);
}

export function parseDeployment(raw: unknown, source = "deployment"): Deployment {
  const result = deploymentSchema.safeParse(raw);
  if (!result.success)
    throw new DeploymentFileError(`${source} is invalid.`, { details: z.prettifyError(result.error) });
  return result.data;
}

/** Writes deployments/<chainId>.json (atomically) and returns its path. */
export function writeDeployment(deployment: Deployment, dir: string = defaultDeploymentsDir): string {
  const file = deploymentPath(deployment.chainId, dir);
  writeDeploymentFile(file, deployment);
  return file;
}

/** Writes a deployments file atomically (a reader never sees half of it), creating its directory. */
export function writeDeploymentFile(file: string, deployment: Deployment): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deploymentSchema.parse(deployment), null, 2)}\n`);
  renameSync(tmp, file);
}

/** Short id of a deployment (8 hex characters), naming its Kafka topics, consumer groups and schemas. */
export function deploymentId(deployment: Deployment): string {
  // Lower-case address: the ids the load tests gave their deployments before addresses were checksummed.
  const registry = deployment.contracts.IdentityRegistry.address.toLowerCase();
  return keccak256(toHex(`${deployment.chainId}:${registry}:${deployment.startBlockHash ?? ""}`)).slice(
    2,
    10,
  );
}

/**
 * True when the chain at `rpcUrl` has this deployment: the same chain id, code at every address, and (when
 * recorded) the same start block hash.
 */
export async function isDeployedOn(rpcUrl: string, deployment: Deployment): Promise<boolean> {
  const client = createPublicClient({ transport: http(rpcUrl, { batch: true, timeout: 10_000 }) });
  const [chainId, codes, block] = await Promise.all([
    client.getChainId(),
    Promise.all(Object.values(deployment.contracts).map((c) => client.getCode({ address: c.address }))),
    deployment.startBlockHash === undefined
      ? undefined
      : client.getBlock({ blockNumber: BigInt(deployment.startBlock) }).catch((error: unknown) => {
          if (error instanceof BlockNotFoundError) return null;
          throw error;
        }),
  ]);
  return (
    chainId === deployment.chainId &&
    codes.every((code) => code !== undefined && code !== "0x") &&
    (block === undefined || block?.hash === deployment.startBlockHash)
  );
}

export function watchedContracts(deployment: Deployment): WatchedContracts {
  const contracts = Object.values(deployment.contracts);
  return {
    addresses: contracts.map((c) => c.address.toLowerCase() as Address).sort(),
    startBlock: Math.min(deployment.startBlock, ...contracts.map((c) => c.startBlock)),
  };
}
