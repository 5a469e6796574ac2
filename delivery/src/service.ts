import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { type Common, formatDuration, type HealthCheck, sleep } from "@carechain/common";
import type { AuditSink, Database } from "@carechain/gateway";
import { feedEnd, listenToFeed } from "@carechain/gateway/events";
import type { DeliveryOptions } from "./config.ts";
import { type DeliveryMetrics, deliveryMetrics } from "./metrics.ts";
import { OutboxFiller } from "./outbox/fill.ts";
import { SenderPool } from "./senders/pool.ts";
import { createPoster } from "./senders/post.ts";
import { Viewers } from "./viewers.ts";

export type ServiceOptions = Pick<
  DeliveryOptions,
  "senders" | "timeoutMs" | "retrySchedule" | "allowPrivateUrls" | "pollMs" | "leaseMs" | "stallAfterMs"
> & {
  /** Days delivered and withheld rows are kept (default 30); see DELIVERY_RETENTION_DAYS. */
  retentionDays?: number;
  /** How often old rows are deleted (default: a minute). */
  pruneIntervalMs?: number;
  instanceId?: string;
  /** Test hooks: see OutboxFiller.beforeCommit and SenderPool.afterPost. */
  beforeFillCommit?: (subscriptionId: string) => Promise<void> | void;
  afterPost?: () => void;
  /** Per-subscription sends in flight (default: a quarter of the senders). */
  perSubscription?: number;
  statsIntervalMs?: number;
};

/**
 * Connections of an instance's pool. Sends hold none (a claim is leased, not row-locked), so this does not
 * grow with the senders: the claim loop, the decisions of the claims in flight, the records, the filler,
 * the audit log and the figures share them, with room to spare.
 */
export const DATABASE_CONNECTIONS = 16;

export type DeliveryService = {
  instanceId: string;
  metrics: DeliveryMetrics;
  checks: Record<string, HealthCheck>;
  /** Wakes the filler and the senders (as a NOTIFY would). */
  wake(): void;
  /** Stops filling and claiming; sends in flight finish and are recorded; nothing is half-written. */
  stop(): Promise<void>;
};

/**
 * The delivery service: the outbox filler (woken by the projector's NOTIFY on the feed channel, polling as
 * a fallback), the senders, and the figures (queue depth, fill lag) behind /metrics and /health.
 */
export function startDeliveryService(
  common: Common<unknown>,
  deps: { db: Database; audit: AuditSink },
  options: ServiceOptions,
): DeliveryService {
  const { logger } = common;
  const { db, audit } = deps;
  const metrics = deliveryMetrics(common.metrics);
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const stopping = new AbortController();
  const viewers = new Viewers(db);
  const poster = createPoster({ timeoutMs: options.timeoutMs, allowPrivateUrls: options.allowPrivateUrls });
  const senders = new SenderPool({
    db,
    audit,
    logger,
    metrics,
    poster,
    viewers,
    senders: options.senders,
    perSubscription: options.perSubscription,
    retrySchedule: options.retrySchedule,
    pollMs: options.pollMs,
    timeoutMs: options.timeoutMs,
    afterPost: options.afterPost,
  });
  let filledSinceLog = 0;
  const filler = new OutboxFiller({
    db,
    audit,
    logger,
    viewers,
    instanceId,
    leaseMs: options.leaseMs,
    beforeCommit: options.beforeFillCommit,
    onCommitted: ({ admitted }) => {
      filledSinceLog += admitted;
      metrics.filled.inc(admitted);
      if (admitted > 0) senders.wake();
    },
  });

  // The senders start once the first round has filled the outbox (or failed): a restarted instance
  // brings its outbox up to the feed before it sends, rather than racing its own filler.
  let sending = false;
  const filling = listenToFeed(
    db,
    logger,
    async () => {
      try {
        await filler.fillRound(stopping.signal);
      } finally {
        if (!sending) {
          sending = true;
          senders.start();
        }
      }
    },
    { signal: stopping.signal, pollMs: options.pollMs, name: "delivery", work: "filling the outbox" },
  );

  // Figures: queue depth, fill lag; progress (and stall) judged on the sum of every subscription's place.
  let lastProgress = { at: Date.now(), placed: -1n, lag: 0n };
  let lastLog = { at: Date.now(), placed: 0n };
  const stats = async () => {
    const end = await feedEnd(db);
    const [depth, place] = await Promise.all([
      // The queue: rows still to send (pending) or stuck (failed), counted on the partial index
      // webhook_deliveries_by_patient, not the settled rows that retention keeps for 30 days.
      db.query<{ status: string; n: string }>(
        `SELECT status, count(*)::text AS n FROM ${db.gateway}.webhook_deliveries
          WHERE status IN ('pending', 'failed') GROUP BY status`,
      ),
      db.query<{ lag: string; placed: string }>(
        `SELECT coalesce(sum(greatest($2 - feed_seq, 0)), 0)::text AS lag, coalesce(sum(feed_seq), 0)::text AS placed
           FROM ${db.gateway}.webhook_subscriptions WHERE feed_origin IS NOT DISTINCT FROM $1 OR feed_origin IS NULL`,
        [end.origin, end.seq.toString()],
      ),
    ]);
    for (const status of ["pending", "failed"])
      metrics.queueDepth.set({ status }, Number(depth.find((row) => row.status === status)?.n ?? 0));
    const lag = BigInt(place[0]!.lag);
    const placed = BigInt(place[0]!.placed);
    metrics.fillLag.set(Number(lag));
    const now = Date.now();
    if (placed !== lastProgress.placed || lag === 0n) lastProgress = { at: now, placed, lag };
    else lastProgress.lag = lag;
    // Catching up: a line every 10 s with the rate (never patients or urls).
    if (now - lastLog.at >= 10_000) {
      const seconds = (now - lastLog.at) / 1000;
      const rate = Number(placed - lastLog.placed) / seconds;
      if (lag > 1000n)
        logger.info(
          {
            lagSeq: lag.toString(),
            decidedPerSecond: Math.round(rate),
            admittedPerSecond: Math.round(filledSinceLog / seconds),
            eta: formatDuration(rate > 0 ? Number(lag) / rate : null),
          },
          "delivery: catching up with the event feed",
        );
      lastLog = { at: now, placed };
      filledSinceLog = 0;
    }
  };
  // Retention: settled rows older than the retention go, in bounded batches (a long backlog of them is
  // worked off over several rounds instead of one long lock); their attempts go with them (cascade).
  let lastPrune = 0;
  const prune = async () => {
    if (Date.now() - lastPrune < (options.pruneIntervalMs ?? 60_000)) return;
    lastPrune = Date.now();
    const [row] = await db.query<{ n: number }>(
      `WITH old AS (
         SELECT subscription_id, seq FROM ${db.gateway}.webhook_deliveries
          WHERE status IN ('delivered', 'withheld') AND created_at < now() - $1 * interval '1 day'
          LIMIT 10000),
       gone AS (
         DELETE FROM ${db.gateway}.webhook_deliveries d USING old
          WHERE d.subscription_id = old.subscription_id AND d.seq = old.seq RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [options.retentionDays ?? 30],
    );
    if (row && row.n > 0)
      logger.info({ deleted: row.n }, "delivery: deleted settled outbox rows past retention");
  };
  const statsLoop = (async () => {
    while (!stopping.signal.aborted) {
      await stats().catch((error: unknown) => logger.debug({ err: error }, "delivery: stats failed"));
      await prune().catch((error: unknown) => logger.warn({ err: error }, "delivery: retention failed"));
      await sleep(options.statsIntervalMs ?? 5_000, stopping.signal);
    }
  })();

  const checks: Record<string, HealthCheck> = {
    database: async () => {
      await db.query("SELECT 1");
      return { ok: true };
    },
    filler: async () => {
      const stalledMs = Date.now() - lastProgress.at;
      const stalled = lastProgress.lag > 0n && stalledMs > options.stallAfterMs;
      return {
        ok: filling.healthy() && !stalled,
        details: {
          lagSeq: lastProgress.lag.toString(),
          sinceProgressMs: stalledMs,
          reading: filling.healthy(),
        },
      };
    },
  };

  return {
    instanceId,
    metrics,
    checks,
    wake: () => {
      filling.wake();
      senders.wake();
    },
    stop: async () => {
      stopping.abort();
      await filling.done;
      await senders.stop();
      await statsLoop;
      poster.close();
    },
  };
}
