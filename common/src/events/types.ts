import type { careChainEventsAbi } from "@carechain/contracts/abis";
import type { Address, ContractEventName, GetEventArgs, Hex } from "viem";

export type CareChainEventsAbi = typeof careChainEventsAbi;

/** Every event the CareChain contracts emit, by name (`RecordAdded`, `AccessRevoked`, ...). */
export type ChainEventName = ContractEventName<CareChainEventsAbi>;

/**
 * Envelopes the pipeline makes itself, for facts no log states (see derived.ts): `ChainClock`, which ingest
 * publishes to every partition after each committed range (time passed up to that block), and what the
 * projector derives from it into the event feed, `GrantExpired` (the first block whose time reached a
 * grant's expiry) and `AlertFinal` (an alert now at least FINALITY_DEPTH blocks deep).
 */
export type DerivedPayloads = {
  ChainClock: { partition: number; partitions: number };
  GrantExpired: { patient: Address; grantee: Address; expiresAt: string };
  AlertFinal: {
    patient: Address;
    /** The VitalsAlert's id and place in the chain. */
    alertId: string;
    alertBlockNumber: number;
    alertLogIndex: number;
    device: Address;
    measuredAt: string;
    systolic: number;
    diastolic: number;
    recipients: readonly Address[];
  };
};
export type DerivedEventName = keyof DerivedPayloads;
export const derivedEventNames = [
  "ChainClock",
  "GrantExpired",
  "AlertFinal",
] as const satisfies readonly DerivedEventName[];

export function isDerived(type: string): type is DerivedEventName {
  return (derivedEventNames as readonly string[]).includes(type);
}

/** Every envelope type: the contracts' events and the derived ones. */
export type EventName = ChainEventName | DerivedEventName;

/** JSON has no bigint: integers wider than 48 bits travel as decimal strings. */
type Jsonify<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? readonly Jsonify<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonify<T[K]> }
      : T;

/** The decoded arguments of event `N`, addresses in lower case, as they appear in the envelope. */
export type EventPayload<N extends EventName = EventName> = N extends ChainEventName
  ? Jsonify<GetEventArgs<CareChainEventsAbi, N, { EnableUnion: false; IndexedOnly: false; Required: true }>>
  : N extends DerivedEventName
    ? DerivedPayloads[N]
    : never;

export const ENVELOPE_VERSION = 1;

/**
 * The one message shape of the pipeline: what ingest publishes to Kafka, what the projector applies and
 * what subscribers receive. `id` is stable across re-ingestion (chain id, block hash, log index), so a
 * duplicate is recognisable; a retraction carries the same id and payload with `retracted: true` and undoes
 * the event it names (the block was orphaned by a reorg).
 */
export type EventEnvelope<N extends EventName = EventName> = {
  [K in N]: {
    version: typeof ENVELOPE_VERSION;
    id: string;
    type: K;
    chainId: number;
    contract: Address;
    blockNumber: number;
    blockHash: Hex;
    blockTimestamp: number;
    txHash: Hex;
    txIndex: number;
    logIndex: number;
    retracted: boolean;
    /**
     * Blocks on top of this block when ingest read it (the head it saw minus this block): how final the
     * event already was when published. Absent in envelopes made before it was recorded.
     */
    confirmations?: number;
    /**
     * Event feed only (a VitalsAlert): the projector judged the alert final (at least FINALITY_DEPTH
     * confirmations) when it appended it; otherwise an AlertFinal follows once it is.
     */
    final?: boolean;
    payload: EventPayload<K>;
  };
}[N];
