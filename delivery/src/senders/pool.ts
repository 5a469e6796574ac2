import { formatDuration, type Logger, parseEnvelope, sleep } from "@carechain/common";
import { signWebhook } from "@carechain/consumer";
import { type AuditSink, type Database, loadViewer, RequestPolicy, type Viewer } from "@carechain/gateway";
import { stillAdmitted, toFeedEvent } from "@carechain/gateway/events";
import type pg from "pg";
import type { DeliveryMetrics } from "../metrics.ts";
import type { Poster, PostResult } from "./post.ts";

/** A due delivery, claimed (row-locked) by one sender. */
type Claimed = {
  subscription_id: string;
  seq: string;
  event_id: string;
  body: unknown;
  attempts: number;
  owner: string;
  url: string;
  secret: string;
  envelope: unknown;
};

export type SenderPoolOptions = {
  db: Database;
  audit: AuditSink;
  logger: Logger;
  metrics: DeliveryMetrics;
  poster: Poster;
  /** Senders (sends in flight at once). */
  senders: number;
  /** At most this many sends in flight per subscription in this instance (a slow receiver holds no more). */
  perSubscription?: number;
  /** Waits after each failed attempt; once they are used up the delivery is failed. */
  retrySchedule: readonly number[];
  pollMs: number;
  /** Jitter factor in [0, 1): a wait is lengthened by up to this share (default 0.1). */
  jitter?: number;
  /** Called after each answered POST, before its outcome is recorded (the crash test's kill hook). */
  afterPost?: () => void;
};

/**
 * The senders: each claims one due delivery (pending, due, its subscription active, and no earlier delivery
 * of the same subscription and patient pending or failed: chain order per patient) with FOR UPDATE SKIP
 * LOCKED, and holds that row lock while it decides, signs, POSTs and records the outcome in the same
 * transaction. A crash (or a kill) anywhere before COMMIT leaves the row pending for the next sender:
 * at-least-once, never lost, and the receiver drops a repeat by its webhook-id. The lock also keeps the
 * next delivery of the same patient waiting until this one is settled.
 */
export class SenderPool {
  private stopping = false;
  private readonly workers: Promise<void>[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly sleepers = new Set<() => void>();
  private readonly perSubscription: number;
  private readonly viewers = new Map<string, { viewer: Viewer; until: number }>();

  constructor(private readonly options: SenderPoolOptions) {
    this.perSubscription = options.perSubscription ?? Math.max(1, Math.floor(options.senders / 4));
  }

  start(): void {
    for (let i = 0; i < this.options.senders; i++) this.workers.push(this.work());
  }

  /** Something may be due (the filler inserted rows, a retry is due): every idle sender looks. */
  wake(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Stops claiming; sends in flight finish (within the timeout) and are recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let sent = false;
      try {
        sent = await this.sendOne();
        failures = 0;
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 30 === 0)
          this.options.logger.warn({ err: error, failures }, "sender: database failed; retrying");
      }
      if (sent || this.stopping) continue;
      await this.idle(failures > 0 ? Math.min(this.options.pollMs * failures, 10_000) : this.options.pollMs);
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const controller = new AbortController();
      const done = () => {
        this.sleepers.delete(done);
        controller.abort();
        resolve();
      };
      this.sleepers.add(done);
      void sleep(ms, controller.signal).then(done, done);
    });
  }

  /** Claims, settles and commits one delivery; false when none is due. */
  private async sendOne(): Promise<boolean> {
    const { db } = this.options;
    const busy = [...this.inFlight].filter(([, n]) => n >= this.perSubscription).map(([id]) => id);
    const client = await db.pool.connect();
    let claimed: Claimed | undefined;
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<Claimed>(
        `SELECT d.subscription_id, d.seq::text AS seq, d.event_id, d.body, d.attempts,
                s.owner, s.url, s.secret, f.envelope
           FROM ${db.gateway}.webhook_deliveries d
           JOIN ${db.gateway}.webhook_subscriptions s ON s.id = d.subscription_id AND s.status = 'active'
           LEFT JOIN ${db.projection}.event_feed f ON f.seq = d.seq
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()
            AND NOT (d.subscription_id = ANY($1::text[]))
            -- Chain order per patient; the partial index webhook_deliveries_by_patient answers it.
            AND NOT EXISTS (
              SELECT 1 FROM ${db.gateway}.webhook_deliveries e
               WHERE e.subscription_id = d.subscription_id AND e.patient = d.patient AND e.seq < d.seq
                 AND e.status IN ('pending', 'failed'))
          ORDER BY d.next_attempt_at, d.seq
          LIMIT 1
          FOR UPDATE OF d SKIP LOCKED`,
        [busy],
      );
      claimed = rows[0];
      if (!claimed) {
        await client.query("COMMIT");
        return false;
      }
      this.inFlight.set(claimed.subscription_id, (this.inFlight.get(claimed.subscription_id) ?? 0) + 1);
      await this.settle(client, claimed);
      await client.query("COMMIT");
      return true;
    } catch (error) {
      // Rolled back (or the connection is gone): the delivery is still pending, for this or another sender.
      await client.query("ROLLBACK").catch((rollback: Error) => {
        broken = rollback; // a connection in an unknown state is closed, not pooled
      });
      throw error;
    } finally {
      client.release(broken);
      if (claimed) {
        const left = (this.inFlight.get(claimed.subscription_id) ?? 1) - 1;
        if (left > 0) this.inFlight.set(claimed.subscription_id, left);
        else this.inFlight.delete(claimed.subscription_id);
      }
    }
  }

  /** Decides now, sends, records: all in the claim's transaction. */
  private async settle(client: pg.PoolClient, delivery: Claimed): Promise<void> {
    const { db, metrics } = this.options;
    const key = [delivery.subscription_id, delivery.seq];
    if (!(await this.stillAllowed(delivery))) {
      await client.query(
        `UPDATE ${db.gateway}.webhook_deliveries SET status = 'withheld', last_error = 'no longer allowed'
          WHERE subscription_id = $1 AND seq = $2`,
        key,
      );
      metrics.withheld.inc();
      return;
    }
    const body = JSON.stringify(delivery.body);
    const startedAt = new Date();
    const headers = signWebhook(delivery.secret, { id: delivery.event_id, timestamp: startedAt, body });
    const outcome = await this.options.poster.post(delivery.url, headers, body);
    this.options.afterPost?.();
    metrics.attempts.inc({ result: outcome.result });
    const attempt = delivery.attempts + 1;
    const record = (status: string, waitMs: number | null) =>
      this.record(client, delivery, { attempt, startedAt, outcome, status, waitMs });
    if (outcome.result === "delivered") {
      await record("delivered", null);
      const occurredAt = Date.parse((delivery.body as { occurredAt?: string }).occurredAt ?? "");
      if (Number.isFinite(occurredAt)) metrics.latency.observe(Math.max(0, (Date.now() - occurredAt) / 1000));
      return;
    }
    const schedule = this.options.retrySchedule;
    if (attempt <= schedule.length) {
      const wait = Math.round(schedule[attempt - 1]! * (1 + Math.random() * (this.options.jitter ?? 0.1)));
      await record("pending", wait);
      // Wake a sender when it is due, rather than at the next poll (matters for short schedules).
      if (wait < this.options.pollMs) setTimeout(() => this.wake(), wait).unref();
      return;
    }
    await record("failed", null);
    await this.fail(client, delivery, attempt, outcome);
  }

  /** The attempt and the delivery's new state, in one statement. */
  private async record(
    client: pg.PoolClient,
    delivery: Claimed,
    values: { attempt: number; startedAt: Date; outcome: PostResult; status: string; waitMs: number | null },
  ): Promise<void> {
    const { db } = this.options;
    const { attempt, startedAt, outcome, status, waitMs } = values;
    await client.query(
      `WITH attempt AS (
         INSERT INTO ${db.gateway}.webhook_attempts
           (subscription_id, seq, attempt, started_at, latency_ms, status_code, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7))
       UPDATE ${db.gateway}.webhook_deliveries
          SET status = $8, attempts = $3, last_status = $6, last_error = $7,
              delivered_at = CASE WHEN $8 = 'delivered' THEN now() END,
              next_attempt_at = CASE WHEN $9::integer IS NULL THEN next_attempt_at
                                     ELSE now() + $9::integer * interval '1 millisecond' END
        WHERE subscription_id = $1 AND seq = $2`,
      [
        delivery.subscription_id,
        delivery.seq,
        attempt,
        startedAt,
        outcome.latencyMs,
        outcome.statusCode,
        outcome.error,
        status,
        waitMs,
      ],
    );
  }

  /** Retries used up: the delivery is failed (recorded), its subscription failing, saying why. */
  private async fail(client: pg.PoolClient, delivery: Claimed, attempt: number, outcome: PostResult) {
    const { db, metrics, logger } = this.options;
    const key = [delivery.subscription_id, delivery.seq];
    // Since the first attempt of this round (a resume or redeliver starts a new one at attempt 1).
    const { rows } = await client.query<{ seconds: number | null }>(
      `SELECT extract(epoch FROM now() - max(started_at))::float8 AS seconds FROM ${db.gateway}.webhook_attempts
        WHERE subscription_id = $1 AND seq = $2 AND attempt = 1`,
      key,
    );
    const over = formatDuration(rows[0]?.seconds ?? 0);
    const last = outcome.statusCode !== null ? String(outcome.statusCode) : (outcome.error ?? "no answer");
    const reason = `event ${delivery.event_id} not accepted after ${attempt} attempts over ${over}: last ${last}`;
    await client.query(
      `UPDATE ${db.gateway}.webhook_subscriptions
          SET status = 'failing', failure_reason = $2, updated_at = now()
        WHERE id = $1 AND status = 'active'`,
      [delivery.subscription_id, reason],
    );
    metrics.failures.inc();
    logger.warn({ subscription: delivery.subscription_id, attempts: attempt }, "subscription failing");
  }

  /**
   * The owner's role, kept a few seconds: a role changes only with a registration on chain, while grants
   * and revocations (the facts every decision loads fresh) are never cached.
   */
  private async viewerOf(owner: string): Promise<Viewer> {
    const cached = this.viewers.get(owner);
    if (cached && cached.until > Date.now()) return cached.viewer;
    const viewer = await loadViewer(this.options.db, owner.toLowerCase() as Parameters<typeof loadViewer>[1]);
    if (this.viewers.size > 10_000) this.viewers.clear();
    this.viewers.set(owner, { viewer, until: Date.now() + 5_000 });
    return viewer;
  }

  /** The policy now, not audited again: the outbox row was audited when admitted. */
  private async stillAllowed(delivery: Claimed): Promise<boolean> {
    const { db, audit } = this.options;
    if (delivery.envelope === null) return false; // no longer in the feed (rebuilt): never send blind
    const envelope = parseEnvelope(delivery.envelope);
    if (toFeedEvent(envelope)?.id !== delivery.event_id) return false;
    const policy = new RequestPolicy({
      db,
      viewer: await this.viewerOf(delivery.owner),
      requestId: `webhook:${delivery.subscription_id}:recheck`,
      audit,
      channel: "webhook",
    });
    return stillAdmitted((asOf) => policy.derive({ asOf }), envelope);
  }
}
