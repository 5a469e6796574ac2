import { DecodeError, type EventEnvelope, type EventName } from "@carechain/common";
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

/**
 * A value for a smallint column. The contracts keep these small (scopes, record types, blood pressure);
 * an event that does not fit is dead-lettered rather than blocking its partition.
 */
export function int16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < -32768 || value > 32767) {
    throw new DecodeError(`${what} ${value} does not fit the projection (smallint).`);
  }
  return value;
}

export function isZeroHash(value: string): boolean {
  return /^0x0*$/.test(value);
}
