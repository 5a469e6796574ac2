import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  custom,
  getAddress,
  getContractAddress,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  consentManagerAbi,
  identityRegistryAbi,
  recordRegistryAbi,
  vitalsMonitorAbi,
} from "../generated/abis.ts";
import { bytecodes } from "../generated/artifacts.ts";
import { chainFor } from "./chain.ts";
import { type ContractName, type Deployment, defaultDeploymentsDir, writeDeployment } from "./deployment.ts";

export type DeployCareChainOptions = {
  /** JSON-RPC URL of the chain (used to build clients when they are not given). */
  rpcUrl?: string;
  /** Key of the deployer, who becomes the IdentityRegistry admin. Or give a walletClient with an account. */
  privateKey?: Hex;
  walletClient?: WalletClient<Transport, Chain | undefined, Account>;
  publicClient?: PublicClient;
  /** Where deployments/<chainId>.json goes (default contracts/deployments/); `false` writes no file. */
  deploymentsDir?: string | false;
  /** Receipt polling interval, ms (default 100: fine for a local node). */
  pollingIntervalMs?: number;
};

export type DeployCareChainResult = Deployment & {
  /** The deployer (IdentityRegistry owner). */
  admin: Address;
  startBlockHash: Hex;
  /** Path of the written deployments file, if any. */
  file: string | undefined;
};

/**
 * Deploys IdentityRegistry, ConsentManager, RecordRegistry and VitalsMonitor wired together. The four
 * creation transactions are sent back to back with consecutive nonces (their addresses are known in advance)
 * and confirmed together.
 */
export async function deployCareChain(options: DeployCareChainOptions): Promise<DeployCareChainResult> {
  const pollingInterval = options.pollingIntervalMs ?? 100;
  const rpcUrl = options.rpcUrl;
  if (!options.walletClient && !(rpcUrl && options.privateKey)) {
    throw new Error("deployCareChain needs a walletClient with an account, or rpcUrl and privateKey");
  }
  const publicClient =
    options.publicClient ??
    createPublicClient({
      transport: options.walletClient && !rpcUrl ? custom(options.walletClient) : http(rpcUrl),
      pollingInterval,
    });
  const chainId = await publicClient.getChainId();
  const walletClient =
    options.walletClient ??
    createWalletClient({
      account: privateKeyToAccount(options.privateKey!),
      chain: chainFor(chainId, rpcUrl!),
      transport: http(rpcUrl),
      pollingInterval,
    });
  const account = walletClient.account;
  const chain = walletClient.chain ?? chainFor(chainId, rpcUrl ?? "http://127.0.0.1:8545");

  const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: "pending" });
  const addressAt = (offset: number) =>
    getContractAddress({ from: account.address, nonce: BigInt(nonce + offset) });
  const identity = addressAt(0);
  const consent = addressAt(1);

  const common = { account, chain } as const;
  const hashes: Record<ContractName, Hex> = {
    IdentityRegistry: await walletClient.deployContract({
      ...common,
      abi: identityRegistryAbi,
      bytecode: bytecodes.IdentityRegistry,
      nonce,
    }),
    ConsentManager: await walletClient.deployContract({
      ...common,
      abi: consentManagerAbi,
      bytecode: bytecodes.ConsentManager,
      args: [identity],
      nonce: nonce + 1,
    }),
    RecordRegistry: await walletClient.deployContract({
      ...common,
      abi: recordRegistryAbi,
      bytecode: bytecodes.RecordRegistry,
      args: [identity, consent],
      nonce: nonce + 2,
    }),
    VitalsMonitor: await walletClient.deployContract({
      ...common,
      abi: vitalsMonitorAbi,
      bytecode: bytecodes.VitalsMonitor,
      args: [identity, consent],
      nonce: nonce + 3,
    }),
  };

  const names = Object.keys(hashes) as ContractName[];
  const receipts = await Promise.all(
    names.map((name) => publicClient.waitForTransactionReceipt({ hash: hashes[name], pollingInterval })),
  );
  const contracts = {} as Deployment["contracts"];
  receipts.forEach((receipt, i) => {
    const name = names[i]!;
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new Error(`deploying ${name} failed (transaction ${receipt.transactionHash} reverted)`);
    }
    contracts[name] = {
      address: getAddress(receipt.contractAddress),
      startBlock: Number(receipt.blockNumber),
    };
  });
  if (contracts.IdentityRegistry.address !== identity || contracts.ConsentManager.address !== consent) {
    throw new Error(
      "deployCareChain: contract addresses differ from the precomputed ones (was the nonce reused?)",
    );
  }

  const first = receipts.reduce((a, b) => (b.blockNumber < a.blockNumber ? b : a));
  const deployment = {
    chainId,
    startBlock: Number(first.blockNumber),
    deployedAt: new Date().toISOString(),
    startBlockHash: first.blockHash,
    admin: account.address,
    contracts,
  };
  const dir = options.deploymentsDir === undefined ? defaultDeploymentsDir : options.deploymentsDir;
  const file = dir === false ? undefined : writeDeployment(deployment, dir);
  return { ...deployment, file };
}
