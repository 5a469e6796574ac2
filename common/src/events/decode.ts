import { careChainEventsAbi } from "@carechain/contracts/abis";
import { type Address, decodeEventLog, type Hex, toEventSelector } from "viem";
import { DecodeError } from "../errors.ts";
import { eventId, parseEnvelope } from "./schema.ts";
import { ENVELOPE_VERSION, type EventEnvelope } from "./types.ts";

const eventsBySelector = new Map<Hex, readonly (typeof careChainEventsAbi)[number][]>(
  careChainEventsAbi.map((event) => [toEventSelector(event), [event]]),
);

/** The fields of a chain log that the decoder needs (a viem `Log` has them all). */
export type ChainLog = {
  address: Address;
  topics: readonly Hex[];
  data: Hex;
  blockNumber: bigint | null;
  blockHash: Hex | null;
  transactionHash: Hex | null;
  transactionIndex: number | null;
  logIndex: number | null;
};

/**
 * The one place that turns a chain log into an envelope. Throws DecodeError (non-retryable: the log goes
 * to the dead-letter topic) for a log that is pending, unknown or malformed.
 */
export function decodeLog(
  log: ChainLog,
  context: { chainId: number; blockTimestamp: number },
): EventEnvelope {
  const { blockNumber, blockHash, transactionHash, transactionIndex, logIndex } = log;
  if (
    blockNumber === null ||
    blockHash === null ||
    transactionHash === null ||
    transactionIndex === null ||
    logIndex === null
  ) {
    throw new DecodeError("Pending log: it has no block yet.");
  }
  let decoded: { eventName: string; args: unknown };
  try {
    decoded = decodeEventLog({
      // The one event of topic0 when known: viem would otherwise hash every event's signature per log.
      abi: eventsBySelector.get(log.topics[0]?.toLowerCase() as Hex) ?? careChainEventsAbi,
      data: log.data,
      topics: log.topics as [Hex, ...Hex[]],
      strict: true,
    });
  } catch (error) {
    throw new DecodeError("Log does not match any CareChain event.", {
      details: error instanceof Error ? error.message.split("\n")[0] : String(error),
      cause: error,
    });
  }
  return parseEnvelope({
    version: ENVELOPE_VERSION,
    id: eventId(context.chainId, blockHash, logIndex),
    type: decoded.eventName,
    chainId: context.chainId,
    contract: log.address.toLowerCase(),
    blockNumber: Number(blockNumber),
    blockHash: blockHash.toLowerCase(),
    blockTimestamp: context.blockTimestamp,
    txHash: transactionHash.toLowerCase(),
    txIndex: transactionIndex,
    logIndex,
    retracted: false,
    payload: toJsonValue(decoded.args),
  });
}

/** bigint to decimal string, addresses and hex to lower case: the envelope's JSON form. */
function toJsonValue(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return value.startsWith("0x") ? value.toLowerCase() : value;
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toJsonValue(inner)]));
  }
  return value;
}
