import type { BaseError, ChainLog } from "@carechain/common";
import type { Message } from "kafkajs";

export const DEAD_LETTER_HEADERS = { reason: "dead-letter-reason", error: "error-type" } as const;

/**
 * A chain log that did not decode, kept for inspection: the reason in a header and in the JSON body, with
 * the raw log (hex as on chain: hashes and codes only, never personal data). Keyed like an event id.
 */
export function deadLetterMessage(log: ChainLog, error: BaseError, chainId: number): Message {
  const key = `${chainId}:${log.blockHash ?? "pending"}:${log.logIndex ?? "?"}`;
  const body = {
    reason: error.shortMessage,
    details: error.details ?? null,
    chainId,
    log: {
      address: log.address.toLowerCase(),
      topics: log.topics,
      data: log.data,
      blockNumber: log.blockNumber?.toString() ?? null,
      blockHash: log.blockHash,
      transactionHash: log.transactionHash,
      transactionIndex: log.transactionIndex,
      logIndex: log.logIndex,
    },
  };
  return {
    key,
    value: JSON.stringify(body),
    headers: { [DEAD_LETTER_HEADERS.reason]: error.shortMessage, [DEAD_LETTER_HEADERS.error]: error.name },
  };
}
