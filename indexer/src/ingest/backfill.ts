import { type ChainLog, isRetryable, sleep } from "@carechain/common";
import type { Address } from "viem";
import { RangeRefusedError, RpcTimeoutError } from "../errors.ts";
import type { AdaptiveRange } from "./adaptive-range.ts";
import type { Rpc } from "./rpc.ts";

/**
 * The logs of the watched contracts from `from` up to at most `target`, in one eth_getLogs over all the
 * addresses, with a range that adapts: a refused or timed-out query is asked again at half the size at
 * once, other transient failures after a backoff. Returns the block actually reached.
 */
export async function fetchLogs(
  rpc: Rpc,
  range: AdaptiveRange,
  request: { addresses: readonly Address[]; from: number; target: number; signal: AbortSignal },
  now: () => number = Date.now,
): Promise<{ to: number; logs: ChainLog[] }> {
  const { addresses, from, target, signal } = request;
  for (let attempt = 0; ; attempt++) {
    const to = Math.min(target, from + range.size - 1);
    const started = now();
    try {
      const logs = await rpc.getLogs(addresses, from, to);
      range.onSuccess(to - from + 1, now() - started, logs.length);
      return { to, logs };
    } catch (error) {
      const blocks = to - from + 1;
      if (error instanceof RangeRefusedError || error instanceof RpcTimeoutError) {
        const suggested =
          error instanceof RangeRefusedError && error.suggestedTo ? error.suggestedTo - from + 1 : undefined;
        if (range.onRefused(blocks, suggested)) continue;
        if (error instanceof RangeRefusedError) throw error; // one block is too much: nothing left to try
      }
      if (!isRetryable(error) || signal.aborted) throw error;
      await sleep(Math.round(Math.random() * Math.min(5_000, 50 * 2 ** Math.min(attempt, 10))), signal);
    }
  }
}
