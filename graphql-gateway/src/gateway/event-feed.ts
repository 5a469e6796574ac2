import type { Logger } from "@carechain/common";
import { type EventEnvelope, eventFeedChannel, parseEnvelope, sleep } from "@carechain/common";
import type pg from "pg";
import type { Database } from "../database/pool.ts";
import type { GatewayMetrics } from "../metrics.ts";

/** Live event types the subscriptions serve. */
export type LiveEvent = EventEnvelope<"VitalsAlert"> | EventEnvelope<"RecordAdded">;
const liveTypes: readonly LiveEvent["type"][] = ["VitalsAlert", "RecordAdded"];

/** In-process fan-out of the feed's events to the open subscriptions. */
export class EventHub {
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export type EventFeed = {
  /** Resolves once the feed knows where it starts: events committed afterwards are delivered. */
  ready: Promise<void>;
  /** False while the feed cannot read PostgreSQL (subscriptions then receive nothing). */
  isRunning: () => boolean;
  stop: () => Promise<void>;
};

/**
 * Follows `event_feed`, the events as the projector COMMITTED them, in commit order (never Kafka, which is
 * ahead of the projections): when an event is delivered, everything before it in the log is applied, so
 * the policy that filters it sees the revocation that preceded it. Wakes on the projector's NOTIFY, and
 * polls every `pollMs` in case a notification was missed (a dropped LISTEN connection). Starts at the end
 * of the feed: subscriptions are live. After a rebuild switches generations the feed's numbering restarts,
 * and the reader moves to the end of the new one.
 */
export function startEventFeed(options: {
  db: Database;
  hub: EventHub;
  logger: Logger;
  metrics: GatewayMetrics;
  pollMs?: number;
  batchSize?: number;
}): EventFeed {
  const { db, hub, logger, metrics } = options;
  const pollMs = options.pollMs ?? 1_000;
  const batchSize = options.batchSize ?? 500;
  const stopping = new AbortController();
  let cursor: bigint | undefined;
  let healthy = false;
  let wake: (() => void) | undefined;
  let listener: pg.PoolClient | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  async function listen(): Promise<void> {
    if (listener) return;
    const client = await db.pool.connect();
    client.on("notification", () => wake?.());
    client.on("error", (error) => {
      logger.warn({ err: error }, "event feed: LISTEN connection lost; polling until it is back");
      listener = undefined;
      client.release(error);
    });
    await client.query(`LISTEN ${eventFeedChannel}`);
    listener = client;
  }

  async function readOnce(): Promise<number> {
    if (cursor === undefined) {
      const [row] = await db.query<{ last: string | null }>(
        `SELECT max(seq)::text AS last FROM ${db.projection}.event_feed`,
      );
      cursor = BigInt(row?.last ?? 0);
      markReady();
    }
    const rows = await db.query<{ seq: string; envelope: unknown }>(
      `SELECT seq::text AS seq, CASE WHEN type = ANY($2::text[]) THEN envelope END AS envelope
         FROM ${db.projection}.event_feed WHERE seq > $1 ORDER BY seq LIMIT $3`,
      [cursor.toString(), liveTypes, batchSize],
    );
    if (rows.length === 0) {
      // A rebuilt generation numbers its feed afresh: move to its end rather than wait for our old seq.
      const [row] = await db.query<{ last: string | null }>(
        `SELECT max(seq)::text AS last FROM ${db.projection}.event_feed`,
      );
      const last = BigInt(row?.last ?? 0);
      if (last < cursor) {
        logger.info(
          { from: cursor.toString(), to: last.toString() },
          "event feed restarted at a new generation",
        );
        cursor = last;
      }
    }
    for (const row of rows) {
      cursor = BigInt(row.seq);
      if (row.envelope === null) continue;
      let event: EventEnvelope;
      try {
        event = parseEnvelope(row.envelope);
      } catch (error) {
        logger.warn({ err: error, seq: row.seq }, "event feed: skipping an invalid envelope");
        continue;
      }
      metrics.eventsReceived.inc({ type: event.type });
      hub.publish(event as LiveEvent);
    }
    return rows.length;
  }

  const running = (async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      try {
        await listen();
        // A full batch means more is waiting: read on without waiting for a notification.
        while ((await readOnce()) === batchSize && !stopping.signal.aborted) {}
        healthy = true;
        failures = 0;
      } catch (error) {
        healthy = false;
        failures++;
        if (failures === 1 || failures % 30 === 0)
          logger.warn({ err: error, failures }, "event feed: reading PostgreSQL failed; retrying");
      }
      await Promise.race([
        woken,
        sleep(healthy ? pollMs : Math.min(pollMs * failures, 10_000), stopping.signal),
      ]);
    }
  })();

  return {
    ready,
    isRunning: () => healthy,
    stop: async () => {
      stopping.abort();
      wake?.();
      markReady();
      await running;
      listener?.release();
      listener = undefined;
    },
  };
}
