import { sleep } from "@carechain/common";
import type { BlockRef } from "./block-window.ts";
import type { Rpc } from "./rpc.ts";

export type HeadPoll = { kind: "blocks"; target: number } | { kind: "reorg" } | { kind: "stopped" };

/**
 * Following the head: polls eth_blockNumber every `intervalMs` until the chain holds blocks past `cursor`
 * (with `confirmations` on top) and returns the highest block that may be ingested. While waiting it also
 * checks that `cursor` is still canonical, so that a reorg to a chain that is not (yet) longer is seen
 * too. Polling rather than a subscription: it works on every HTTP RPC and survives reconnects.
 */
export async function pollHead(
  rpc: Rpc,
  options: {
    cursor: BlockRef | null;
    after: number;
    confirmations: number;
    intervalMs: number;
    signal: AbortSignal;
  },
  hooks: { onHead?: (head: number) => void; onIdle?: () => void } = {},
): Promise<HeadPoll> {
  while (!options.signal.aborted) {
    const head = await rpc.blockNumber();
    hooks.onHead?.(head);
    const target = head - options.confirmations;
    if (target > options.after) return { kind: "blocks", target };
    const { cursor } = options;
    if (cursor && (await rpc.blockHash(cursor.number)) !== cursor.hash) return { kind: "reorg" };
    hooks.onIdle?.();
    await sleep(options.intervalMs, options.signal);
  }
  return { kind: "stopped" };
}
