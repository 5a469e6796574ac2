import type { EventEnvelope, EventName } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import type { WorkingSet } from "../working-set.ts";

/** What a projection does with one event type: which rows it needs loaded, and how it changes them. */
export type Projection<N extends EventName> = {
  keys: (event: EventEnvelope<N>) => Array<[TableName, Row]>;
  apply: (event: EventEnvelope<N>, rows: WorkingSet) => void;
};

export type Projections = { [N in EventName]?: Projection<N> };

// JavaScript dates (and so these ISO strings) end in year 275760; PostgreSQL's timestamptz a little later.
const MAX_SECONDS = 8_640_000_000_000n;

/** Unix seconds (uint64 may arrive as a decimal string) to a timestamptz value; beyond range: 'infinity'. */
export function time(seconds: number | string): string {
  const value = BigInt(seconds);
  if (value > MAX_SECONDS) return "infinity";
  return new Date(Number(value) * 1000).toISOString();
}

/** An expiry where 0 means "never". */
export function expiry(seconds: number | string): string | null {
  return BigInt(seconds) === 0n ? null : time(seconds);
}

export function blockTime(event: EventEnvelope): string {
  return time(event.blockTimestamp);
}
