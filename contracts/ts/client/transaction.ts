import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type ParseEventLogsReturnType,
  type PublicClient,
  parseEventLogs,
  type Transport,
  type WalletClient,
} from "viem";
import { careChainErrorsAbi, careChainEventsAbi } from "../../generated/abis.ts";
import type { Deployment } from "../deployment.ts";
import { toCareChainError } from "./decode-revert.ts";
import {
  InsufficientFundsError,
  NoAccountError,
  TransactionRevertedError,
  WrongChainError,
} from "./errors.ts";

export type CareChainEvent = ParseEventLogsReturnType<typeof careChainEventsAbi>[number];

/** What every write method resolves to once the transaction is mined. */
export type TransactionResult = {
  hash: Hex;
  blockNumber: bigint;
  /** The CareChain events the transaction emitted, decoded. */
  events: CareChainEvent[];
};

export type ClientContext = {
  publicClient: PublicClient<Transport, Chain | undefined>;
  walletClient: WalletClient<Transport, Chain | undefined, Account | undefined> | undefined;
  deployment: Deployment;
  pollingIntervalMs: number | undefined;
};

/** The wallet's account, after checking there is one and that the wallet is on the deployment's chain. */
export async function requireAccount(ctx: ClientContext, action: string): Promise<Account> {
  const account = ctx.walletClient?.account;
  if (!ctx.walletClient || !account) throw new NoAccountError(action);
  let actual: number;
  try {
    actual = await ctx.walletClient.getChainId();
  } catch (error) {
    throw toCareChainError(error, {
      contractAddress: ctx.deployment.contracts.IdentityRegistry.address,
      functionName: "eth_chainId",
      action,
    });
  }
  if (actual !== ctx.deployment.chainId) throw new WrongChainError(ctx.deployment.chainId, actual);
  return account;
}

/**
 * Sends a contract call the way a wallet user expects: an account is connected, the wallet is on the
 * deployment's chain, the call would not revert (simulated; custom errors decoded), the account can pay the
 * estimated fee. Then sends it, waits for the receipt and decodes the CareChain events.
 */
export async function sendContractCall(
  ctx: ClientContext,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<TransactionResult> {
  const action = `call ${call.functionName}`;
  const account = await requireAccount(ctx, action);
  const walletClient = ctx.walletClient!;
  const { publicClient } = ctx;
  const where = { contractAddress: call.address, functionName: call.functionName, action };
  const abi = [...call.abi, ...careChainErrorsAbi] as Abi;

  let gas: bigint;
  let fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
  let balance: bigint;
  try {
    await publicClient.simulateContract({
      address: call.address,
      abi,
      functionName: call.functionName,
      args: call.args,
      account,
    });
    [gas, fees, balance] = await Promise.all([
      publicClient.estimateContractGas({
        address: call.address,
        abi,
        functionName: call.functionName,
        args: call.args,
        account,
      }),
      publicClient.estimateFeesPerGas(),
      publicClient.getBalance({ address: account.address }),
    ]);
  } catch (error) {
    throw toCareChainError(error, where);
  }
  const need = gas * fees.maxFeePerGas;
  if (balance < need) throw new InsufficientFundsError(account.address, need, balance);

  let hash: Hex;
  try {
    hash = await walletClient.writeContract({
      address: call.address,
      abi,
      functionName: call.functionName,
      args: call.args,
      account,
      chain: walletClient.chain ?? null,
      gas,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
  } catch (error) {
    throw toCareChainError(error, where);
  }
  return waitForResult(ctx, call.functionName, hash);
}

export async function waitForResult(
  ctx: ClientContext,
  functionName: string,
  hash: Hex,
): Promise<TransactionResult> {
  const receipt = await ctx.publicClient.waitForTransactionReceipt({
    hash,
    ...(ctx.pollingIntervalMs ? { pollingInterval: ctx.pollingIntervalMs } : {}),
  });
  if (receipt.status !== "success") throw new TransactionRevertedError(functionName, hash);
  const ours = new Set(Object.values(ctx.deployment.contracts).map((c) => c.address.toLowerCase()));
  const events = parseEventLogs({
    abi: careChainEventsAbi,
    logs: receipt.logs.filter((log) => ours.has(log.address.toLowerCase())),
  });
  return { hash, blockNumber: receipt.blockNumber, events };
}
