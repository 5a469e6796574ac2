import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type ParseEventLogsReturnType,
  type PublicClient,
  parseEventLogs,
  type TransactionReceipt,
  TransactionReceiptNotFoundError,
  type Transport,
  type WalletClient,
} from "viem";
import { careChainErrorsAbi, careChainEventsAbi } from "../../generated/abis.ts";
import type { Deployment } from "../deployment.ts";
import {
  InsufficientFundsError,
  NoAccountError,
  ReceiptTimeoutError,
  TransactionRevertedError,
  WrongChainError,
} from "../errors.ts";
import { toCareChainError } from "./decode-revert.ts";

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
  /** How long a write waits for its receipt (default DEFAULT_RECEIPT_TIMEOUT_MS). */
  receiptTimeoutMs?: number;
};

export const DEFAULT_RECEIPT_TIMEOUT_MS = 60_000;
/** Receipt polls that failed in a row (each already retried by the transport) before the node counts as gone. */
const FAILED_POLLS_UNTIL_UNREACHABLE = 3;

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
  const receipt = await waitForReceipt(ctx, functionName, hash);
  if (receipt.status !== "success") throw new TransactionRevertedError(functionName, hash);
  const ours = new Set(Object.values(ctx.deployment.contracts).map((c) => c.address.toLowerCase()));
  const events = parseEventLogs({
    abi: careChainEventsAbi,
    logs: receipt.logs.filter((log) => ours.has(log.address.toLowerCase())),
  });
  return { hash, blockNumber: receipt.blockNumber, events };
}

/**
 * Polls for the receipt until `receiptTimeoutMs`, and gives up sooner when the node stops answering: viem's
 * waitForTransactionReceipt swallows failed polls and would wait out its 3 minutes against a dead node.
 */
async function waitForReceipt(
  ctx: ClientContext,
  functionName: string,
  hash: Hex,
): Promise<TransactionReceipt> {
  const started = Date.now();
  const timeoutMs = ctx.receiptTimeoutMs ?? DEFAULT_RECEIPT_TIMEOUT_MS;
  const interval = ctx.pollingIntervalMs ?? ctx.publicClient.pollingInterval;
  const fail = (nodeUnreachable: boolean, cause?: unknown) =>
    new ReceiptTimeoutError(functionName, hash, {
      waitedMs: Date.now() - started,
      nodeUnreachable,
      cause: cause instanceof Error ? cause : undefined,
    });
  let failures = 0;
  for (;;) {
    const remaining = started + timeoutMs - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), Math.max(0, remaining));
    });
    try {
      const receipt = await Promise.race([ctx.publicClient.getTransactionReceipt({ hash }), late]);
      // A poll still unanswered at the deadline: the node hangs.
      if (receipt === "late") throw fail(true);
      return receipt;
    } catch (error) {
      if (error instanceof ReceiptTimeoutError) throw error;
      if (error instanceof TransactionReceiptNotFoundError) failures = 0;
      else if (++failures >= FAILED_POLLS_UNTIL_UNREACHABLE) throw fail(true, error);
    } finally {
      clearTimeout(timer);
    }
    if (Date.now() + interval >= started + timeoutMs) throw fail(false);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
