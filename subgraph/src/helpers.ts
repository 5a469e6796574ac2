// Shared helpers for the CareChain mappings (AssemblyScript, not TypeScript: excluded from Biome and tsc).
import { BigInt, Bytes, ethereum } from "@graphprotocol/graph-ts";

/** Id of an append-only event entity: transaction hash ++ log index (4 bytes little-endian: concatI32). */
export function eventId(event: ethereum.Event): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32());
}

/** Id of the event `offset` log positions before `event` in the same transaction. */
export function eventIdAt(event: ethereum.Event, offset: i32): Bytes {
  return event.transaction.hash.concatI32(event.logIndex.toI32() - offset);
}

/** Id of a pair entity (grants, emergency access): first ++ second. */
export function pairId(first: Bytes, second: Bytes): Bytes {
  return first.concat(second);
}

export function isZero(value: Bytes): boolean {
  for (let i = 0; i < value.length; i++) {
    if (value[i] != 0) return false;
  }
  return true;
}

/** The contracts use expiresAt == 0 for "no expiry"; the projections (and this subgraph) store null. */
export function expiryOrNull(expiresAt: BigInt): BigInt | null {
  if (expiresAt.isZero()) return null;
  return expiresAt;
}

/**
 * The contracts' rule: a grant is active while it is not revoked and (expiresAt == 0 or now < expiresAt).
 * graph-node has no wall clock, so `now` is the block time of the event being handled.
 */
export function isGrantActive(revoked: boolean, expiresAt: BigInt | null, now: BigInt): boolean {
  if (revoked) return false;
  if (expiresAt === null) return true;
  return now.lt(expiresAt);
}
