import { type ChainLog, DecodeError, decodeLog, type EventEnvelope, RetryableError } from "@carechain/common";
import type { Message } from "kafkajs";
import { deadLetterMessage } from "./dead-letter.ts";
import type { BlockHeader } from "./rpc.ts";

/**
 * Turns the logs of a range into envelopes (through common's decodeLog, the only decoder) and dead
 * letters, checking that each log belongs to the block we fetched the header of: if not, the chain
 * changed between the two reads and the range must be read again.
 */
export function decodeRange(
  logs: readonly ChainLog[],
  headers: ReadonlyMap<number, BlockHeader>,
  chainId: number,
): { envelopes: EventEnvelope[]; deadLetters: Message[] } {
  const envelopes: EventEnvelope[] = [];
  const deadLetters: Message[] = [];
  for (const log of logs) {
    const header = log.blockNumber === null ? undefined : headers.get(Number(log.blockNumber));
    if (log.blockNumber !== null && (!header || log.blockHash?.toLowerCase() !== header.hash)) {
      throw new RetryableError("A log's block hash differs from its block's header.", {
        details: `block ${log.blockNumber}`,
      });
    }
    try {
      envelopes.push(decodeLog(log, { chainId, blockTimestamp: header?.timestamp ?? 0 }));
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      deadLetters.push(deadLetterMessage(log, error, chainId));
    }
  }
  return { envelopes, deadLetters };
}
