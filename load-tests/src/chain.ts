// The chain side of the load tests (the deployment is contracts' ensureDeployment / deployCareChain): a fast
// transaction pipeline for anvil: accounts funded with anvil_setBalance and impersonated (no
// signing in Node), explicit nonces and gas, JSON-RPC batches, and blocks mined in bulk while seeding.
import { formatDuration, NonRetryableError, sleep } from "@carechain/common";
import {
  consentManagerAbi,
  identityRegistryAbi,
  recordRegistryAbi,
  vitalsMonitorAbi,
} from "@carechain/contracts/abis";
import { type Address, type Hex, toHex } from "viem";
import { type Say, seconds } from "./paths.ts";
import { forEachConcurrent, type JsonRpc, type RpcCall } from "./rpc.ts";

export const abis = {
  IdentityRegistry: identityRegistryAbi,
  ConsentManager: consentManagerAbi,
  RecordRegistry: recordRegistryAbi,
  VitalsMonitor: vitalsMonitorAbi,
} as const;

/** 10,000 ETH each and impersonation, so that eth_sendTransaction works for them without keys. */
export async function prepareAccounts(rpc: JsonRpc, accounts: readonly Address[]): Promise<void> {
  const calls: RpcCall[] = accounts.flatMap((account) => [
    { method: "anvil_setBalance", params: [account, toHex(10n ** 22n)] },
    { method: "anvil_impersonateAccount", params: [account] },
  ]);
  const answers = await rpc.batchAll(calls, { batchSize: 1_000, concurrency: 2 });
  const failed = answers.find((answer) => answer.error);
  if (failed?.error) {
    throw new NonRetryableError(
      `the node refused anvil_setBalance / anvil_impersonateAccount (${failed.error.message}): the seeder needs anvil`,
    );
  }
}

export type Tx = {
  from: Address;
  to: Address;
  data: Hex;
  gas: bigint;
  /** Logs (events) it emits, about: blocks are kept small enough for ingest's eth_getLogs (10 MB a block). */
  logs?: number;
};

/** The block gas limit while seeding in bulk (thousands of transactions a block). */
const BULK_GAS_LIMIT = 2_000_000_000n;
/** Transactions sent before mining them: anvil's pool slows down past a few thousand (385 tx/s at 6,000). */
const BULK_CHUNK = 2_000;
/**
 * Logs per block: ingest reads a block's logs in one eth_getLogs answer of at most 10 MB (viem's limit),
 * about 13,000 logs (some 750 bytes each); a block over that would stop it for good.
 */
const BULK_LOGS = 8_000;

export type SendOptions = {
  /**
   * "bulk": automine is paused while the transactions are sent and blocks are mined with evm_mine (many
   * transactions per block: fast); automine is restored afterwards. "automine": a block per transaction,
   * at most `window` transactions pending at once (for a chain others use at the same time, like the tests').
   */
  mining: "bulk" | "automine";
  window?: number;
  label: string;
  say: Say;
};

/**
 * Sends transactions with explicit nonces (per sender, from the pending count) and waits until all are
 * mined. Order is kept per sender; there is no order between senders (callers send dependent work in a later
 * call). Reverted transactions are not detected here: callers check the resulting state.
 */
export async function sendAll(
  rpc: JsonRpc,
  txs: readonly Tx[],
  options: SendOptions,
): Promise<{ ms: number; blocks: number }> {
  const started = Date.now();
  if (txs.length === 0) return { ms: 0, blocks: 0 };
  const senders = [...new Set(txs.map((tx) => tx.from))];
  const counts = await rpc.batchAll(
    senders.map((sender) => ({ method: "eth_getTransactionCount", params: [sender, "pending"] })),
    { batchSize: 1_000, concurrency: 2 },
  );
  const nonces = new Map(senders.map((sender, i) => [sender, BigInt(counts[i]!.result as Hex)]));
  // Full blocks raise the base fee by 1/8 each: over hundreds of blocks a transaction priced when it was
  // sent would fall below it and be dropped (leaving a nonce gap). The base fee is held where it was for the
  // blocks mined here, and every transaction may pay four times that.
  const head = await rpc.call<{ baseFeePerGas?: Hex }>("eth_getBlockByNumber", ["latest", false]);
  const baseFee = BigInt(head.baseFeePerGas ?? "0x0");
  const maxFeePerGas = toHex(baseFee * 4n + 1_000_000_000n);
  const calls: RpcCall[] = txs.map((tx) => {
    const nonce = nonces.get(tx.from)!;
    nonces.set(tx.from, nonce + 1n);
    return {
      method: "eth_sendTransaction",
      params: [
        {
          from: tx.from,
          to: tx.to,
          data: tx.data,
          gas: toHex(tx.gas),
          nonce: toHex(nonce),
          maxFeePerGas,
          maxPriorityFeePerGas: "0x0",
        },
      ],
    };
  });

  let sent = 0;
  let blocks = 0;
  let submitMs = 0;
  let mineMs = 0;
  let lastReport = Date.now();
  const report = (force = false) => {
    if (!force && Date.now() - lastReport < 5_000) return;
    lastReport = Date.now();
    const secondsSoFar = (Date.now() - started) / 1000;
    const rate = sent / Math.max(secondsSoFar, 1e-3);
    const eta = rate > 0 ? (txs.length - sent) / rate : null;
    const split =
      blocks > 0 ? `; ${blocks} blocks, ${seconds(submitMs)} submitting, ${seconds(mineMs)} mining` : "";
    options.say(
      `  ${options.label}: ${sent}/${txs.length} tx (${rate.toFixed(0)} tx/s, ETA ${formatDuration(eta)}${split})`,
    );
  };
  const check = (answers: { error?: { message: string } | undefined }[]) => {
    const failed = answers.find((answer) => answer.error);
    if (failed?.error) {
      throw new NonRetryableError(
        `${options.label}: the node refused a transaction: ${failed.error.message}`,
      );
    }
  };

  if (options.mining === "bulk") {
    // anvil keeps a copy of the state per block, so its memory grows with blocks x state: at 30M gas a
    // block the reference population would take some 1,300 blocks and tens of GB. Blocks of up to
    // BULK_GAS_LIMIT (restored afterwards) keep it to a few dozen blocks, and mining is faster too.
    const previousLimit = BigInt(
      (await rpc.call<{ gasLimit: Hex }>("eth_getBlockByNumber", ["latest", false])).gasLimit,
    );
    await rpc.call("evm_setAutomine", [false]);
    await rpc.call("anvil_setBlockGasLimit", [toHex(BULK_GAS_LIMIT)]);
    try {
      // One block per chunk: at most BULK_CHUNK transactions (anvil takes them in more slowly the fuller
      // its pool), and no more than fit in 80 % of a block.
      const chunks: RpcCall[][] = [];
      let gas = 0n;
      let logs = 0;
      for (const [k, call] of calls.entries()) {
        const tx = txs[k]!;
        const full =
          (chunks.at(-1)?.length ?? 0) >= BULK_CHUNK ||
          gas + tx.gas > (BULK_GAS_LIMIT * 4n) / 5n ||
          logs + (tx.logs ?? 1) > BULK_LOGS;
        if (chunks.length === 0 || full) {
          chunks.push([]);
          gas = 0n;
          logs = 0;
        }
        chunks.at(-1)!.push(call);
        gas += tx.gas;
        logs += tx.logs ?? 1;
      }
      for (const part of chunks) {
        const t0 = Date.now();
        check(await rpc.batchAll(part, { batchSize: 250, concurrency: 2 }));
        const t1 = Date.now();
        blocks += await mineUntilEmpty(rpc, baseFee);
        submitMs += t1 - t0;
        mineMs += Date.now() - t1;
        sent += part.length;
        report();
      }
    } finally {
      await rpc.call("anvil_setBlockGasLimit", [toHex(previousLimit)]);
      await rpc.call("evm_setAutomine", [true]);
    }
  } else {
    const window = options.window ?? 16;
    await forEachConcurrent(chunkify(calls, window), 1, async (part) => {
      check(await rpc.batch(part));
      await waitUntilPoolEmpty(rpc);
      sent += part.length;
      report();
    });
  }
  report(true);
  return { ms: Date.now() - started, blocks };
}

/** Mines blocks until the pool is empty, the base fee held at `baseFee`; returns how many. */
async function mineUntilEmpty(rpc: JsonRpc, baseFee: bigint): Promise<number> {
  for (let round = 0; ; round++) {
    const status = await rpc.call<{ pending: Hex; queued: Hex }>("txpool_status");
    if (Number(status.pending) === 0) {
      if (Number(status.queued) > 0) {
        throw new NonRetryableError(
          `${Number(status.queued)} transactions are stuck in the pool with nonce gaps`,
        );
      }
      return round;
    }
    await rpc.call("anvil_setNextBlockBaseFeePerGas", [toHex(baseFee)]);
    await rpc.call("evm_mine");
    if (round > 100_000) throw new NonRetryableError("mining does not empty the transaction pool");
  }
}

async function waitUntilPoolEmpty(rpc: JsonRpc): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await rpc.call<{ pending: Hex }>("txpool_status");
    if (Number(status.pending) === 0) return;
    if (Date.now() > deadline) throw new NonRetryableError("transactions stay pending for 2 minutes");
    await sleep(10);
  }
}

function chunkify<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
