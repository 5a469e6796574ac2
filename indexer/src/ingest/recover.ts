import { type ChainLog, chainClock, type EventEnvelope, type Logger, withRetry } from "@carechain/common";
import type { Address } from "viem";
import type { BlockRef, BlockWindow } from "./block-window.ts";
import { decodeRange } from "./decode-range.ts";
import type { BlockHeader, Rpc } from "./rpc.ts";

/**
 * After a restart the window of recent block hashes comes back from the checkpoint, but not the envelopes
 * published for those blocks, which a reorg must retract. They are read again from the chain BY BLOCK HASH:
 * the logs and header of exactly the block published, canonical or not while the node still has it. The
 * events of blocks the node no longer knows (a node restarted from an older state) come from ingest's own
 * log instead (`fromLog`, see published-log.ts). The chain clocks of those blocks are made again (their ids
 * are their block's and partition's): a retraction of one that was never published changes nothing.
 */
export async function recoverWindowEvents(
  rpc: Rpc,
  window: BlockWindow,
  request: {
    addresses: readonly Address[];
    chainId: number;
    /** Partitions of the events topic (one chain clock each). */
    partitions: number;
    signal: AbortSignal;
    logger: Logger;
    fromLog: (blocks: readonly BlockRef[]) => Promise<EventEnvelope[]>;
  },
): Promise<EventEnvelope[]> {
  const attempt = <T>(fn: () => Promise<T>) => withRetry(fn, { retries: 3, signal: request.signal });
  const missing: BlockRef[] = [];
  const blocks = await Promise.all(
    window.toJSON().map(async (entry: BlockRef) => {
      try {
        const [logs, header] = await Promise.all([
          attempt(() => rpc.getLogsAt(request.addresses, entry.hash)),
          attempt(() => rpc.headerAt(entry.hash)),
        ]);
        if (!header) throw new Error("unknown block");
        return { logs, header };
      } catch {
        missing.push(entry);
        return { logs: [] as ChainLog[], header: null };
      }
    }),
  );
  const headers = new Map<number, BlockHeader>();
  for (const { header } of blocks) if (header) headers.set(header.number, header);
  const { envelopes } = decodeRange(
    blocks.flatMap((block) => block.logs),
    headers,
    request.chainId,
  );
  for (const header of headers.values()) {
    const block = {
      chainId: request.chainId,
      number: header.number,
      hash: header.hash,
      timestamp: header.timestamp,
    };
    for (let partition = 0; partition < request.partitions; partition++)
      envelopes.push(chainClock(block, { partition, partitions: request.partitions }, 0));
  }
  if (missing.length === 0) return envelopes;
  const logged = await request.fromLog(missing);
  request.logger.warn(
    { blocks: missing.length, events: logged.length },
    "recent blocks unknown to the node: their published events were read from the events topic",
  );
  return [...envelopes, ...logged];
}
