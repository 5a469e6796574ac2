import { existsSync } from "node:fs";
import type { Hex } from "viem";
import { deployCareChain } from "./deploy.ts";
import {
  type Deployment,
  deploymentPath,
  isDeployedOn,
  readDeployment,
  readDeploymentFile,
  writeDeployment,
  writeDeploymentFile,
} from "./deployment.ts";

/**
 * The deployment a system runs on. The kept copy (`keptFile`, beside the chain, database and topics it
 * belongs to) wins while the chain has its code: the shared deployments file may since have been rewritten by
 * another tool, and is then written back. Otherwise deployments/<chainId>.json when the chain has code at
 * its addresses (a chain given by RPC_URL), otherwise a new deployment, written to both.
 */
export async function ensureDeployment(options: {
  rpcUrl: string;
  chainId: number;
  dir: string;
  /** The copy kept with the data (e.g. `<dataDir>/deployment.json`). */
  keptFile?: string;
  privateKey: Hex;
  stage?: (text: string) => void;
}): Promise<{ deployment: Deployment; file: string; deployed: boolean }> {
  const file = deploymentPath(options.chainId, options.dir);
  const onChain = async (deployment: Deployment) =>
    deployment.chainId === options.chainId && (await isDeployedOn(options.rpcUrl, deployment));
  const keep = (deployment: Deployment) => {
    if (options.keptFile) writeDeploymentFile(options.keptFile, deployment);
  };

  const kept = options.keptFile ? readKept(options.keptFile) : undefined;
  if (kept && (await onChain(kept))) {
    const shared = existsSync(file) ? readDeployment(options.chainId, options.dir) : undefined;
    if (JSON.stringify(shared?.contracts) !== JSON.stringify(kept.contracts)) {
      options.stage?.(`${file} named other contracts than the kept data: writing the kept deployment back`);
      writeDeployment(kept, options.dir);
    }
    return { deployment: kept, file, deployed: false };
  }
  if (existsSync(file)) {
    const deployment = readDeployment(options.chainId, options.dir);
    if (await onChain(deployment)) {
      keep(deployment);
      return { deployment, file, deployed: false };
    }
    options.stage?.(`${file} names contracts this chain does not have (a new chain): deploying again`);
  } else {
    options.stage?.(`deploying the contracts to chain ${options.chainId}`);
  }
  const { file: _written, ...deployment } = await deployCareChain({
    rpcUrl: options.rpcUrl,
    privateKey: options.privateKey,
    deploymentsDir: options.dir,
  });
  keep(deployment);
  return { deployment, file, deployed: true };
}

/** The kept copy, or undefined when it is missing or unreadable (then the shared file or a deploy decides). */
function readKept(file: string): Deployment | undefined {
  try {
    return readDeploymentFile(file);
  } catch {
    return undefined;
  }
}
