import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ConfigError } from "@carechain/common";
import type { Address } from "viem";
import { z } from "zod";

export type WatchedContracts = { addresses: Address[]; startBlock: number };

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
const deploymentSchema = z.object({
  chainId: z.number().int().positive(),
  startBlock: z.number().int().nonnegative().optional(),
  contracts: z.record(
    z.string(),
    z.object({ address, startBlock: z.number().int().nonnegative().optional() }),
  ),
});

/**
 * The contracts to watch, from a deployments file (`deployments/<chainId>.json`, written by the contracts
 * deploy): every contract address, from the earliest start block.
 */
export async function readWatchedContracts(
  source: { file: string } | { dir: string },
  chainId: number,
): Promise<WatchedContracts> {
  const file = "file" in source ? source.file : join(source.dir, `${chainId}.json`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ConfigError(
      `Cannot read the deployments file ${file}: set DEPLOYMENT_FILE or DEPLOYMENTS_DIR.`,
      {
        cause: error,
      },
    );
  }
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(`Invalid deployments file ${file}.`, { details: z.prettifyError(parsed.error) });
  }
  if (parsed.data.chainId !== chainId) {
    throw new ConfigError(
      `Deployments file ${file} is for chain ${parsed.data.chainId}, the RPC is chain ${chainId}.`,
    );
  }
  const contracts = Object.values(parsed.data.contracts);
  if (contracts.length === 0) throw new ConfigError(`Deployments file ${file} lists no contracts.`);
  const starts = contracts.map((contract) => contract.startBlock ?? parsed.data.startBlock ?? 0);
  return {
    addresses: contracts.map((contract) => contract.address.toLowerCase() as Address).sort(),
    startBlock: Math.min(parsed.data.startBlock ?? Number.POSITIVE_INFINITY, ...starts),
  };
}

/** The watched contracts from options: given directly, or read from the deployments file of `chainId`. */
export async function resolveContracts(
  source: WatchedContracts | { file: string } | { dir: string },
  chainId: number,
): Promise<WatchedContracts> {
  if (!("addresses" in source)) return readWatchedContracts(source, chainId);
  return {
    addresses: source.addresses.map((address) => address.toLowerCase() as Address).sort(),
    startBlock: source.startBlock,
  };
}
