import { type EventEnvelope, RetryableError } from "@carechain/common";
import type { Message } from "kafkajs";
import type { Address } from "viem";
import type { AdaptiveRange } from "./adaptive-range.ts";
import { fetchLogs } from "./backfill.ts";
import { decodeRange } from "./decode-range.ts";
import type { BlockHeader, Rpc } from "./rpc.ts";

/** One range read from the chain and decoded, not yet published. */
export type ReadRange = {
  from: number;
  to: number;
  /** Block `from`: its parent hash must be the hash of the last published block. */
  first: BlockHeader;
  last: BlockHeader;
  /** Headers fetched (range ends and blocks with logs): they extend the recent-hash window. */
  headers: BlockHeader[];
  envelopes: EventEnvelope[];
  deadLetters: Message[];
};

/**
 * Reads the logs of `from`..(at most)`target` with an adaptive range, the headers of the blocks that have
 * logs (timestamps) and of both ends (reorg checks), and decodes the logs. Pure reading: ingest can read the
 * next range while it publishes the previous one.
 */
export async function readRange(
  rpc: Rpc,
  range: AdaptiveRange,
  request: {
    addresses: readonly Address[];
    chainId: number;
    from: number;
    target: number;
    signal: AbortSignal;
  },
): Promise<ReadRange> {
  const { from } = request;
  const { to, logs } = await fetchLogs(rpc, range, request);
  const numbers = [...new Set([from, to, ...logs.map((log) => Number(log.blockNumber))])];
  const headers = await rpc.getHeaders(numbers);
  const first = headers.get(from);
  const last = headers.get(to);
  if (!first || !last) {
    throw new RetryableError("Blocks vanished while reading a range.", { details: `${from}-${to}` });
  }
  const { envelopes, deadLetters } = decodeRange(logs, headers, request.chainId);
  return { from, to, first, last, headers: [...headers.values()], envelopes, deadLetters };
}
