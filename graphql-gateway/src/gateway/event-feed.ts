import type { Logger } from "@carechain/common";
import { type EventEnvelope, parseEnvelope } from "@carechain/common";
import type { Database } from "../database/pool.ts";
import { type FeedItem, feedOriginSql } from "../events/feed-log.ts";
import { listenToFeed } from "../events/listen.ts";
import { sourceOf } from "../events/schema.ts";
import type { GatewayMetrics } from "../metrics.ts";

/** The envelope types the subscriptions serve: every public event type's source (events/schema.ts). */
const liveTypes: readonly string[] = [...new Set(Object.values(sourceOf))];

/** In-process fan-out of the feed's events (with their place in it) to the open subscriptions. */
export class EventHub {
  private readonly listeners = new Set<(item: FeedItem) => void>();

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: (item: FeedItem) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(item: FeedItem): void {
    for (const listener of this.listeners) listener(item);
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
 * and the reader moves to the end of the new one. Stops with `stop()` or when `signal` aborts (the
 * process's shutdown, which starts before the pool is ended), whichever comes first.
 */
export function startEventFeed(options: {
  db: Database;
  hub: EventHub;
  logger: Logger;
  metrics: GatewayMetrics;
  pollMs?: number;
  batchSize?: number;
  signal?: AbortSignal;
}): EventFeed {
  const { db, hub, logger, metrics } = options;
  const pollMs = options.pollMs ?? 1_000;
  const batchSize = options.batchSize ?? 500;
  const stopping = new AbortController();
  const signal = options.signal ? AbortSignal.any([stopping.signal, options.signal]) : stopping.signal;
  let cursor: bigint | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  async function readOnce(): Promise<number> {
    if (cursor === undefined) {
      const [row] = await db.query<{ last: string | null }>(
        `SELECT max(seq)::text AS last FROM ${db.projection}.event_feed`,
      );
      cursor = BigInt(row?.last ?? 0);
      markReady();
    }
    // The origin (the generation: feed-log.ts) in the same statement, so that each item names its own.
    const rows = await db.query<{ origin: string; seq: string; envelope: unknown }>(
      `WITH origin AS (${feedOriginSql(db)})
       SELECT o.origin, f.seq::text AS seq, CASE WHEN f.type = ANY($2::text[]) THEN f.envelope END AS envelope
         FROM ${db.projection}.event_feed f, origin o WHERE f.seq > $1 ORDER BY f.seq LIMIT $3`,
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
      hub.publish({ seq: BigInt(row.seq), origin: row.origin, envelope: event });
    }
    return rows.length;
  }

  const listener = listenToFeed(
    db,
    logger,
    async () => {
      // A full batch means more is waiting: read on without waiting for a notification.
      while ((await readOnce()) === batchSize && !signal.aborted) {}
    },
    { signal, pollMs, name: "event feed", work: "reading PostgreSQL" },
  );
  void listener.done.then(markReady);

  return {
    ready,
    isRunning: listener.healthy,
    stop: async () => {
      stopping.abort();
      markReady();
      await listener.done;
    },
  };
}
