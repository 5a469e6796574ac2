import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type Address, getAddress } from "viem";
import { z } from "zod";
import { contractNames } from "../generated/abis.ts";

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
  contracts: z.object({
    IdentityRegistry: deployedContract,
    ConsentManager: deployedContract,
    RecordRegistry: deployedContract,
    VitalsMonitor: deployedContract,
  }),
});

export type Deployment = z.output<typeof deploymentSchema>;
export type DeployedContract = { address: Address; startBlock: number };

export class DeploymentFileError extends Error {
  override name = "DeploymentFileError";
}

export function deploymentPath(chainId: number, dir: string = defaultDeploymentsDir): string {
  return join(dir, `${chainId}.json`);
}

/** Reads and validates deployments/<chainId>.json. */
export function readDeployment(chainId: number, dir: string = defaultDeploymentsDir): Deployment {
  const file = deploymentPath(chainId, dir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new DeploymentFileError(
      `no readable deployment for chain ${chainId} at ${file}: run \`npm run deploy -w contracts\` (${(error as Error).message})`,
      { cause: error },
    );
  }
  return parseDeployment(raw, file);
}

export function parseDeployment(raw: unknown, source = "deployment"): Deployment {
  const result = deploymentSchema.safeParse(raw);
  if (!result.success)
    throw new DeploymentFileError(`${source} is invalid:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/** Writes deployments/<chainId>.json (atomically) and returns its path. */
export function writeDeployment(deployment: Deployment, dir: string = defaultDeploymentsDir): string {
  const file = deploymentPath(deployment.chainId, dir);
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(deploymentSchema.parse(deployment), null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}
