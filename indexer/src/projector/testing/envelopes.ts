import { createHash } from "node:crypto";
import {
  ENVELOPE_VERSION,
  type EventEnvelope,
  type EventName,
  type EventPayload,
  eventId,
  parseEnvelope,
  retractionOf,
} from "@carechain/common";

/** Test helpers: valid envelopes (per parseEnvelope) for chain 31337, lower-case hex, deterministic. */
export const TEST_CHAIN_ID = 31337;
export const BASE_TIMESTAMP = 1_700_000_000;

export function hex32(seed: string): `0x${string}` {
  return `0x${createHash("sha256").update(seed).digest("hex")}`;
}

export function address(seed: string): `0x${string}` {
  return `0x${createHash("sha256").update(`address:${seed}`).digest("hex").slice(0, 40)}`;
}

const contracts: Record<string, `0x${string}`> = {
  identity: address("contract:IdentityRegistry"),
  consent: address("contract:ConsentManager"),
  records: address("contract:RecordRegistry"),
  vitals: address("contract:VitalsMonitor"),
};

function contractOf(type: EventName): `0x${string}` {
  if (/Access/.test(type)) return contracts.consent!;
  if (type === "RecordAdded") return contracts.records!;
  if (/Vitals|Device|Alert/.test(type)) return contracts.vitals!;
  return contracts.identity!;
}

export type Position = {
  block: number;
  logIndex: number;
  timestamp?: number;
  fork?: string;
  /** Default TEST_CHAIN_ID. */
  chainId?: number;
};

/** An envelope of `type` at a block and log index; `fork` changes the block hash (a reorged sibling). */
export function makeEnvelope<N extends EventName>(
  type: N,
  payload: EventPayload<N>,
  at: Position,
): EventEnvelope<N> {
  const blockHash = hex32(`block:${at.fork ?? "main"}:${at.block}`);
  return parseEnvelope({
    version: ENVELOPE_VERSION,
    id: eventId(at.chainId ?? TEST_CHAIN_ID, blockHash, at.logIndex),
    type,
    chainId: at.chainId ?? TEST_CHAIN_ID,
    contract: contractOf(type),
    blockNumber: at.block,
    blockHash,
    blockTimestamp: at.timestamp ?? BASE_TIMESTAMP + at.block * 2,
    txHash: hex32(`tx:${at.fork ?? "main"}:${at.block}:${at.logIndex}`),
    txIndex: 0,
    logIndex: at.logIndex,
    retracted: false,
    payload,
  }) as EventEnvelope<N>;
}

// The package's test entry (`@carechain/indexer/testing`) also hands out the generators' PRNG.
export { random } from "./random.ts";
export { retractionOf };
