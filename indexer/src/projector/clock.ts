import { alertFinal, type EventEnvelope, type EventPayload, grantExpired } from "@carechain/common";
import { ident, type PoolClient } from "../database/pool.ts";
import { partitionOfKey } from "../kafka/messages.ts";
import type { Row, TableName } from "./tables.ts";
import type { WorkingSet } from "./working-set.ts";

/**
 * What the chain clock (ingest's ChainClock, one per partition after each committed range) makes true: a
 * grant whose expiry the block's time reached has expired (the contracts' rule: active while
 * block.timestamp < expiresAt), and an alert at least `finalityDepth` blocks below the head ingest saw is
 * final. Each is announced once in the event feed (GrantExpired, AlertFinal) and remembered on its row, in
 * the clock's undo log: a reorg that retracts the clock's block takes the announcements back (retractions in
 * the feed), and a later clock on the new chain makes them again, under new ids.
 *
 * A partition's clock speaks only for the patients of that partition (all of a patient's events are keyed
 * to one): its effects then depend only on the partition's own log, so a rebuild from Kafka derives exactly
 * the same announcements, whatever the interleaving of partitions or the batch boundaries.
 */

/** Blocks on top of an alert before it is final, unless configured (FINALITY_DEPTH). */
export const defaultFinalityDepth = 12;

export type AlertRef = Pick<
  EventEnvelope<"VitalsAlert">,
  "id" | "blockNumber" | "blockHash" | "logIndex" | "payload"
>;

/** What the fold needs beyond the rows: the depth, the alerts it may finalize, past announcements. */
export type ClockContext = {
  finalityDepth: number;
  /** Provisional alerts that a clock of this batch may finalize (loaded, and those applied in the batch). */
  alerts: Map<string, AlertRef>;
  /** Announcements that a retraction of this batch may take back, by id (from the event feed). */
  announced: Map<string, EventEnvelope>;
};

/** The head ingest saw when it read `event`: its block plus its confirmations then. */
export const headOf = (event: EventEnvelope): number => event.blockNumber + (event.confirmations ?? 0);

/** An alert already deep enough when ingest read it (a backfill, or enough CONFIRMATIONS). */
export const finalWhenRaised = (alert: EventEnvelope<"VitalsAlert">, depth: number): boolean =>
  (alert.confirmations ?? 0) >= depth;

const seconds = (value: unknown): number => Date.parse(String(value)) / 1000; // NaN for 'infinity'

/**
 * Applies one clock to the working set (its undo log is being recorded) and returns the announcements, in a
 * fixed order (grants by expiry, then alerts by place in the chain) so that every run derives the same feed.
 */
export function applyClock(
  clock: EventEnvelope<"ChainClock">,
  rows: WorkingSet,
  ctx: ClockContext,
): EventEnvelope[] {
  const { partition, partitions } = clock.payload;
  const mine = (row: Row) => partitionOfKey(String(row.patient), partitions) === partition;
  const out: EventEnvelope[] = [];
  const expired = rows
    .rowsOf("grants")
    .filter(
      (row) =>
        row.revoked_at === null &&
        row.expired_event_id === null &&
        seconds(row.expires_at) <= clock.blockTimestamp &&
        mine(row),
    )
    .sort(
      (a, b) =>
        seconds(a.expires_at) - seconds(b.expires_at) ||
        String(a.patient).localeCompare(String(b.patient)) ||
        String(a.grantee).localeCompare(String(b.grantee)),
    );
  for (const row of expired) {
    const event = grantExpired(clock, {
      patient: row.patient as EventPayload<"GrantExpired">["patient"],
      grantee: row.grantee as EventPayload<"GrantExpired">["grantee"],
      expiresAt: String(seconds(row.expires_at)),
    });
    rows.put("grants", { ...row, expired_event_id: event.id });
    out.push(event);
  }
  const head = headOf(clock);
  const deep = rows
    .rowsOf("alerts")
    .filter((row) => row.final === false && head - Number(row.block_number) >= ctx.finalityDepth && mine(row))
    .map((row) => ({ row, alert: ctx.alerts.get(String(row.event_id)) }))
    .filter((entry): entry is { row: Row; alert: AlertRef } => entry.alert !== undefined)
    .sort((a, b) => a.alert.blockNumber - b.alert.blockNumber || a.alert.logIndex - b.alert.logIndex);
  for (const { row, alert } of deep) {
    const event = alertFinal(clock, alert);
    rows.put("alerts", { ...row, final: true, final_event_id: event.id });
    out.push(event);
  }
  return out;
}

/** The announcement ids a row holds (what a retracted clock may have made). */
export function announcementOf(table: TableName, row: Row | null): string | null {
  if (!row) return null;
  const id = table === "grants" ? row.expired_event_id : table === "alerts" ? row.final_event_id : null;
  return typeof id === "string" ? id : null;
}

/**
 * The rows in the database that the batch's clocks may change, to load before the fold (rows the batch's
 * own events touch are loaded anyway): grants not revoked whose expiry the latest clock reached and that are
 * not announced, and provisional alerts deep enough below its head, with the alerts' place in the chain.
 */
export async function loadClockCandidates(
  client: PoolClient,
  schema: string,
  clocks: readonly EventEnvelope<"ChainClock">[],
  finalityDepth: number,
): Promise<{ keys: Array<[TableName, Row]>; alerts: AlertRef[] }> {
  if (clocks.length === 0) return { keys: [], alerts: [] };
  const latest = Math.max(...clocks.map((clock) => clock.blockTimestamp));
  const deepest = Math.max(...clocks.map(headOf)) - finalityDepth;
  const s = ident(schema);
  const grants = await client.query<{ patient: string; grantee: string }>(
    `SELECT patient, grantee FROM ${s}.grants
      WHERE revoked_at IS NULL AND expires_at IS NOT NULL AND expired_event_id IS NULL
        AND expires_at <= to_timestamp($1)`,
    [latest],
  );
  const alerts = await client.query<{
    event_id: string;
    block_number: string;
    block_hash: string;
    log_index: string;
    payload: EventPayload<"VitalsAlert">;
  }>(
    `SELECT a.event_id, e.block_number, e.block_hash, e.log_index, e.payload
       FROM ${s}.alerts a JOIN ${s}.events e ON e.event_id = a.event_id
      WHERE NOT a.final AND a.block_number <= $1`,
    [deepest],
  );
  return {
    keys: [
      ...grants.rows.map((row): [TableName, Row] => ["grants", row]),
      ...alerts.rows.map((row): [TableName, Row] => ["alerts", { event_id: row.event_id }]),
    ],
    alerts: alerts.rows.map((row) => ({
      id: row.event_id,
      blockNumber: Number(row.block_number),
      blockHash: row.block_hash as AlertRef["blockHash"],
      logIndex: Number(row.log_index),
      payload: row.payload,
    })),
  };
}

/** The feed's entries with these ids (what retracted clocks announced), to be retracted in turn. */
export async function loadAnnouncements(
  client: PoolClient,
  schema: string,
  ids: readonly string[],
): Promise<Map<string, EventEnvelope>> {
  if (ids.length === 0) return new Map();
  const { rows } = await client.query<{ event_id: string; envelope: EventEnvelope }>(
    `SELECT DISTINCT ON (event_id) event_id, envelope FROM ${ident(schema)}.event_feed
      WHERE event_id = ANY($1::text[]) AND NOT retracted ORDER BY event_id, seq`,
    [ids],
  );
  return new Map(rows.map((row) => [row.event_id, row.envelope]));
}
