import type { careChainEventsAbi } from "@carechain/contracts/abis";
import type { Address, ContractEventName, GetEventArgs, Hex } from "viem";

export type CareChainEventsAbi = typeof careChainEventsAbi;

/** Every event the CareChain contracts emit, by name (`RecordAdded`, `AccessRevoked`, ...). */
export type EventName = ContractEventName<CareChainEventsAbi>;

/** JSON has no bigint: integers wider than 48 bits travel as decimal strings. */
type Jsonify<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? readonly Jsonify<U>[]
    : T extends object
      ? { [K in keyof T]: Jsonify<T[K]> }
      : T;

/** The decoded arguments of event `N`, addresses in lower case, as they appear in the envelope. */
export type EventPayload<N extends EventName = EventName> = Jsonify<
  GetEventArgs<CareChainEventsAbi, N, { EnableUnion: false; IndexedOnly: false; Required: true }>
>;

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
    payload: EventPayload<K>;
  };
}[N];
