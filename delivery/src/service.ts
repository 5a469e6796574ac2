import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type Common,
  ConfigError,
  eventFeedChannel,
  formatDuration,
  type HealthCheck,
  sleep,
} from "@carechain/common";
import type { AuditSink, Database } from "@carechain/gateway";
import { feedEnd } from "@carechain/gateway/events";
import type pg from "pg";
import type { DeliveryOptions } from "./config.ts";
import { type DeliveryMetrics, deliveryMetrics } from "./metrics.ts";
import { OutboxFiller } from "./outbox/fill.ts";
import { SenderPool } from "./senders/pool.ts";
import { createPoster } from "./senders/post.ts";

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
  // Each sender holds a connection while it sends, and its decision needs others: fewer would deadlock.
  const poolSize = db.pool.options.max ?? 10;
  if (poolSize < options.senders + 4)
    throw new ConfigError(
      `The database pool (${poolSize} connections) must have at least DELIVERY_SENDERS + 4 (${options.senders + 4}).`,
    );
  const metrics = deliveryMetrics(common.metrics);
  const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const stopping = new AbortController();
  const poster = createPoster({ timeoutMs: options.timeoutMs, allowPrivateUrls: options.allowPrivateUrls });
  const senders = new SenderPool({
    db,
    audit,
    logger,
    metrics,
    poster,
    senders: options.senders,
    perSubscription: options.perSubscription,
    retrySchedule: options.retrySchedule,
    pollMs: options.pollMs,
    afterPost: options.afterPost,
  });
  let filledSinceLog = 0;
  const filler = new OutboxFiller({
    db,
    audit,
    logger,
    instanceId,
    leaseMs: options.leaseMs,
    beforeCommit: options.beforeFillCommit,
    onCommitted: ({ admitted }) => {
      filledSinceLog += admitted;
      metrics.filled.inc(admitted);
      if (admitted > 0) senders.wake();
    },
  });

  let wakeFiller: (() => void) | undefined;
  let listener: pg.PoolClient | undefined;
  async function listen(): Promise<void> {
    if (listener) return;
    const client = await db.pool.connect();
    client.on("notification", () => wakeFiller?.());
    client.on("error", (error) => {
      logger.warn({ err: error }, "delivery: LISTEN connection lost; polling until it is back");
      listener = undefined;
      client.release(error);
    });
    await client.query(`LISTEN ${eventFeedChannel}`);
    listener = client;
  }

  let fillerHealthy = false;
  const filling = (async () => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      const woken = new Promise<void>((resolve) => {
        wakeFiller = resolve;
      });
      try {
        await listen();
        await filler.fillRound(stopping.signal);
        fillerHealthy = true;
        failures = 0;
      } catch (error) {
        fillerHealthy = false;
        failures++;
        if (failures === 1 || failures % 30 === 0)
          logger.warn({ err: error, failures }, "delivery: filling the outbox failed; retrying");
      }
      const wait = failures > 0 ? Math.min(options.pollMs * failures, 10_000) : options.pollMs;
      await Promise.race([woken, sleep(wait, stopping.signal)]);
    }
  })();
  senders.start();

  // Figures: queue depth, fill lag; progress (and stall) judged on the sum of every subscription's place.
  let lastProgress = { at: Date.now(), placed: -1n, lag: 0n };
  let lastLog = { at: Date.now(), placed: 0n };
  const stats = async () => {
    const end = await feedEnd(db);
    const [depth, place] = await Promise.all([
      db.query<{ status: string; n: string }>(
        `SELECT status, count(*)::text AS n FROM ${db.gateway}.webhook_deliveries GROUP BY status`,
      ),
      db.query<{ lag: string; placed: string }>(
        `SELECT coalesce(sum(greatest($2 - feed_seq, 0)), 0)::text AS lag, coalesce(sum(feed_seq), 0)::text AS placed
           FROM ${db.gateway}.webhook_subscriptions WHERE feed_origin IS NOT DISTINCT FROM $1 OR feed_origin IS NULL`,
        [end.origin, end.seq.toString()],
      ),
    ]);
    for (const status of ["pending", "delivered", "withheld", "failed"])
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
        ok: fillerHealthy && !stalled,
        details: { lagSeq: lastProgress.lag.toString(), sinceProgressMs: stalledMs, reading: fillerHealthy },
      };
    },
  };

  return {
    instanceId,
    metrics,
    checks,
    wake: () => {
      wakeFiller?.();
      senders.wake();
    },
    stop: async () => {
      stopping.abort();
      wakeFiller?.();
      await filling;
      await senders.stop();
      await statsLoop;
      listener?.release();
      listener = undefined;
      poster.close();
    },
  };
}
