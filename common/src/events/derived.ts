import type { Address, Hex } from "viem";
import { parseEnvelope } from "./schema.ts";
import {
  type DerivedEventName,
  type DerivedPayloads,
  ENVELOPE_VERSION,
  type EventEnvelope,
} from "./types.ts";

/**
 * Envelopes for facts that no log states. They keep the envelope's shape, so that every reader handles them
 * as it handles the rest: no contract (zero address), no transaction (zero hash), and the last place of their
 * block (`endOfBlock`), since each is a fact of the whole block: after every log in it.
 */
export const noContract: Address = "0x0000000000000000000000000000000000000000";
export const noTransaction: Hex = `0x${"0".repeat(64)}`;
export const endOfBlock = 2 ** 31 - 1;

/** The id of a derived fact: its block (a reorg that drops it gives the fact a new id) and what it is about. */
export function derivedEventId(chainId: number, blockHash: Hex, kind: string, subject: string): string {
  return `${chainId}:${blockHash.toLowerCase()}:${kind}:${subject}`;
}

export type ClockBlock = { chainId: number; number: number; hash: Hex; timestamp: number };

function derived<N extends DerivedEventName>(
  type: N,
  block: ClockBlock,
  id: string,
  payload: DerivedPayloads[N],
  confirmations?: number,
): EventEnvelope<N> {
  return parseEnvelope({
    version: ENVELOPE_VERSION,
    id,
    type,
    chainId: block.chainId,
    contract: noContract,
    blockNumber: block.number,
    blockHash: block.hash,
    blockTimestamp: block.timestamp,
    txHash: noTransaction,
    txIndex: 0,
    logIndex: endOfBlock,
    retracted: false,
    ...(confirmations === undefined ? {} : { confirmations }),
    payload,
  }) as EventEnvelope<N>;
}

/**
 * The chain clock of one partition of the events topic: ingest has published everything up to `block`, whose
 * time has come, and the head was `confirmations` blocks above it. Published after the range's events, one
 * per partition, so that each partition's consumer learns that time passed even when no event did.
 */
export function chainClock(
  block: ClockBlock,
  partition: { partition: number; partitions: number },
  confirmations: number,
): EventEnvelope<"ChainClock"> {
  const id = derivedEventId(block.chainId, block.hash, "clock", String(partition.partition));
  return derived("ChainClock", block, id, partition, confirmations);
}

/** A grant that expired with `clock`'s block: the first one whose time reached its expiry. */
export function grantExpired(
  clock: EventEnvelope<"ChainClock">,
  grant: DerivedPayloads["GrantExpired"],
): EventEnvelope<"GrantExpired"> {
  const block = blockOf(clock);
  const id = derivedEventId(block.chainId, block.hash, "expired", `${grant.patient}:${grant.grantee}`);
  return derived("GrantExpired", block, id, grant);
}

/** An alert that became final with `clock`'s block (at least the finality depth below it). */
export function alertFinal(
  clock: EventEnvelope<"ChainClock">,
  alert: Pick<EventEnvelope<"VitalsAlert">, "id" | "blockNumber" | "blockHash" | "logIndex" | "payload">,
): EventEnvelope<"AlertFinal"> {
  const block = blockOf(clock);
  const id = derivedEventId(block.chainId, block.hash, "final", `${alert.blockHash}:${alert.logIndex}`);
  const p = alert.payload;
  return derived("AlertFinal", block, id, {
    patient: p.patient,
    alertId: alert.id,
    alertBlockNumber: alert.blockNumber,
    alertLogIndex: alert.logIndex,
    device: p.device,
    measuredAt: String(p.measuredAt),
    systolic: p.systolic,
    diastolic: p.diastolic,
    recipients: [...p.recipients],
  });
}

function blockOf(envelope: EventEnvelope): ClockBlock {
  const { chainId, blockNumber: number, blockHash: hash, blockTimestamp: timestamp } = envelope;
  return { chainId, number, hash, timestamp };
}
