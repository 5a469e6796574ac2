import { formatDuration, type Logger, parseEnvelope, sleep } from "@carechain/common";
import { signWebhook } from "@carechain/consumer";
import { type AuditSink, type Database, policy, RequestPolicy } from "@carechain/gateway";
import { stillAdmitted, toFeedEvent } from "@carechain/gateway/events";
import type { DeliveryMetrics } from "../metrics.ts";
import type { Viewers } from "../viewers.ts";
import type { Poster, PostResult } from "./post.ts";

/** A due delivery, claimed (leased) for one send. */
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
  /** The claim's lease (next_attempt_at as set by the claim): fences the record. */
  claimed_until: string;
};

/** How a claimed delivery ended, as recorded: an attempt (sent), withheld, or released unsent. */
type Outcome =
  | {
      kind: "attempt";
      delivery: Claimed;
      attempt: number;
      startedAt: Date;
      result: PostResult;
      status: "delivered" | "pending" | "failed";
      waitMs: number | null;
      /** status failed: why its subscription is now failing. */
      reason: string | null;
    }
  | { kind: "withheld"; delivery: Claimed }
  | { kind: "release"; delivery: Claimed };

export type SenderPoolOptions = {
  db: Database;
  audit: AuditSink;
  logger: Logger;
  metrics: DeliveryMetrics;
  poster: Poster;
  /** The owners' roles (shared with the filler). */
  viewers: Viewers;
  /** Senders (sends in flight at once). */
  senders: number;
  /** At most this many sends in flight per subscription in this instance (a slow receiver holds no more). */
  perSubscription?: number;
  /** Waits after each failed attempt; once they are used up the delivery is failed. */
  retrySchedule: readonly number[];
  pollMs: number;
  /** One POST's timeout: a claim is leased for it plus a margin (a dead instance's claims come back then). */
  timeoutMs: number;
  /** Jitter factor in [0, 1): a wait is lengthened by up to this share (default 0.1). */
  jitter?: number;
  /** Called after each answered POST, before its outcome is recorded (the crash test's kill hook). */
  afterPost?: () => void;
};

/**
 * The senders. One loop claims due deliveries for the free senders in one statement: pending, due, the
 * subscription active, no earlier delivery of the same subscription and patient pending or failed (chain
 * order per patient: only a chain's head is ever claimed, and the next one stays behind it until its outcome
 * is recorded). The claim finds the heads of the active subscriptions with a skip scan, one index probe per
 * chain, so its cost follows the number of chains, not the rows behind their heads: a receiver that is down,
 * with its backlog due behind heads waiting for their retry (or its subscription failing), costs the others
 * nothing. (The previous form, an anti-join per due row, was quadratic when the planner's statistics still
 * saw an empty outbox after a burst: a 10,000-row backlog held the claim for minutes.) At most
 * `perSubscription` in flight per subscription (a slow receiver holds no more senders), FOR UPDATE SKIP
 * LOCKED among instances. The claim leases each row (its next_attempt_at moves past the POST's timeout), so
 * no other sender takes it meanwhile and a crash (or a kill) leaves it pending, due again when the lease
 * runs out: at-least-once, never lost, and the receiver drops a repeat by its webhook-id. The deliveries of
 * a claim are decided again now (facts loaded once per owner, not audited), then each is signed and POSTed
 * on its own; outcomes are recorded as they come, those that arrive together in one statement (attempt rows,
 * new states, a subscription failing), each fenced by its lease: a slow receiver's send never holds
 * another's record back.
 */
export class SenderPool {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly sends = new Set<Promise<void>>();
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;
  private readonly sleepers = new Set<() => void>();
  /** A wake that came while the loop was claiming: it claims again instead of sleeping. */
  private woken = false;
  private readonly perSubscription: number;
  private readonly leaseMs: number;
  private queue: { outcome: Outcome; done: () => void }[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly options: SenderPoolOptions) {
    this.perSubscription = options.perSubscription ?? Math.max(1, Math.floor(options.senders / 4));
    this.leaseMs = options.timeoutMs + 5_000;
  }

  start(): void {
    this.loop = this.work();
  }

  /** Something may be due (the filler inserted rows, a retry is due, a sender is free): the claimer looks. */
  wake(): void {
    this.woken = true;
    for (const wake of [...this.sleepers]) wake();
  }

  /** Stops claiming; sends in flight finish (within the timeout) and are recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.loop;
    while (this.sends.size > 0) await Promise.all([...this.sends]);
  }

  private async work(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      const free = this.options.senders - this.inFlightTotal;
      this.woken = false;
      let claimed = 0;
      // Under load, a claim waits for a quarter of the senders to be free: fewer, larger claims.
      if (free >= Math.ceil(this.options.senders / 4) || (free > 0 && this.inFlightTotal === 0)) {
        try {
          claimed = await this.claimAndSend(free);
          failures = 0;
        } catch (error) {
          failures++;
          if (failures === 1 || failures % 30 === 0)
            this.options.logger.warn({ err: error, failures }, "sender: database failed; retrying");
        }
      }
      // All senders busy, or all that is due taken: wait for a free sender, a new row, or the poll.
      if (this.stopping || (claimed > 0 && claimed === free)) continue;
      if (this.woken && failures === 0 && free >= Math.ceil(this.options.senders / 4)) continue;
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

  /** Claims up to `limit` due deliveries and starts deciding and sending them; how many it claimed. */
  private async claimAndSend(limit: number): Promise<number> {
    const { db } = this.options;
    const busy = [...this.inFlight];
    const claimed = await db.query<Claimed>(
      `WITH busy AS (SELECT * FROM unnest($1::text[], $2::int[]) AS b(id, n)),
       -- The head of every chain (patient) of every active subscription with room for more sends: per
       -- subscription, a skip scan of the partial index webhook_deliveries_by_patient, one probe per chain
       -- however long it is. Paused and failing subscriptions (a receiver down for a day, its backlog
       -- waiting) are not walked at all.
       heads AS (
         SELECT h.* FROM ${db.gateway}.webhook_subscriptions s
          CROSS JOIN LATERAL (
            WITH RECURSIVE chain AS (
              (SELECT e.subscription_id, e.patient, e.seq, e.status FROM ${db.gateway}.webhook_deliveries e
                WHERE e.status IN ('pending', 'failed') AND e.subscription_id = s.id
                ORDER BY e.patient, e.seq LIMIT 1)
              UNION ALL
              SELECT n.* FROM chain c CROSS JOIN LATERAL (
                SELECT e.subscription_id, e.patient, e.seq, e.status FROM ${db.gateway}.webhook_deliveries e
                 WHERE e.status IN ('pending', 'failed') AND e.subscription_id = s.id AND e.patient > c.patient
                 ORDER BY e.patient, e.seq LIMIT 1) n)
            SELECT * FROM chain) h
          WHERE s.status = 'active' AND NOT (s.id IN (SELECT id FROM busy WHERE n >= $3))),
       -- The due heads, earliest first. Each head is looked up by its key (lateral: never a scan of every
       -- due row joined to the heads, which the planner picks when its statistics still see an empty outbox).
       due AS (
         SELECT x.subscription_id, x.seq, x.next_attempt_at
           FROM heads h
           CROSS JOIN LATERAL (
             SELECT x.subscription_id, x.seq, x.next_attempt_at, x.status FROM ${db.gateway}.webhook_deliveries x
              WHERE x.subscription_id = h.subscription_id AND x.seq = h.seq OFFSET 0) x
          WHERE h.status = 'pending' AND x.status = 'pending' AND x.next_attempt_at <= now()
          ORDER BY x.next_attempt_at, x.seq
          LIMIT $4 * 2),
       -- Locked only now, and only those (another instance's claim skipped, its rows re-checked when locked).
       candidates AS (
         SELECT d.subscription_id, d.seq, d.next_attempt_at, s.owner, s.url, s.secret, f.envelope
           FROM due u
           CROSS JOIN LATERAL (
             SELECT y.subscription_id, y.seq, y.next_attempt_at, y.status FROM ${db.gateway}.webhook_deliveries y
              WHERE y.subscription_id = u.subscription_id AND y.seq = u.seq
             OFFSET 0 FOR UPDATE SKIP LOCKED) d
           JOIN ${db.gateway}.webhook_subscriptions s ON s.id = d.subscription_id AND s.status = 'active'
           LEFT JOIN ${db.projection}.event_feed f ON f.seq = d.seq
          -- As locked: its latest version, should another claim have leased it since the heads were read.
          WHERE d.status = 'pending' AND d.next_attempt_at <= now()),
       chosen AS (
         SELECT c.* FROM (
           SELECT *, row_number() OVER (PARTITION BY subscription_id ORDER BY next_attempt_at, seq) AS k
             FROM candidates) c
           LEFT JOIN busy b ON b.id = c.subscription_id
          WHERE c.k <= $3 - coalesce(b.n, 0)
          ORDER BY c.next_attempt_at, c.seq
          LIMIT $4)
       UPDATE ${db.gateway}.webhook_deliveries d
          SET next_attempt_at = now() + $5 * interval '1 millisecond'
         FROM chosen c
        WHERE d.subscription_id = c.subscription_id AND d.seq = c.seq
       RETURNING d.subscription_id, d.seq::text AS seq, d.event_id, d.body, d.attempts,
                 c.owner, c.url, c.secret, c.envelope, d.next_attempt_at::text AS claimed_until`,
      [busy.map(([id]) => id), busy.map(([, n]) => n), this.perSubscription, limit, this.leaseMs],
    );
    if (claimed.length === 0) return 0;
    for (const delivery of claimed) {
      this.inFlight.set(delivery.subscription_id, (this.inFlight.get(delivery.subscription_id) ?? 0) + 1);
      this.inFlightTotal++;
    }
    // Decided and sent while the loop claims for the senders still free.
    const sending: Promise<void> = this.decideAndSend(claimed).finally(() => this.sends.delete(sending));
    this.sends.add(sending);
    return claimed.length;
  }

  /** Decides the claimed deliveries again (now), then sends those still allowed and withholds the others. */
  private async decideAndSend(claimed: Claimed[]): Promise<void> {
    let allowed: boolean[];
    try {
      allowed = await this.stillAllowed(claimed);
    } catch (error) {
      this.options.logger.warn({ err: error }, "sender: deciding failed; the deliveries stay due");
      // Unsent: back to due at once, as a rolled-back claim would be.
      await Promise.all(claimed.map((delivery) => this.settle({ kind: "release", delivery })));
      return;
    }
    await Promise.all(
      claimed.map((delivery, i) =>
        allowed[i] ? this.send(delivery) : this.settle({ kind: "withheld", delivery }),
      ),
    );
  }

  /** Signs, POSTs and records one claimed delivery. */
  private async send(delivery: Claimed): Promise<void> {
    const { metrics } = this.options;
    const body = JSON.stringify(delivery.body);
    const startedAt = new Date();
    const headers = signWebhook(delivery.secret, { id: delivery.event_id, timestamp: startedAt, body });
    const result = await this.options.poster.post(delivery.url, headers, body);
    try {
      this.options.afterPost?.();
    } catch (error) {
      // A sender dying between the POST and its record: nothing recorded, the delivery due again.
      this.options.logger.warn({ err: error }, "sender: failed before recording; the delivery stays pending");
      return this.settle({ kind: "release", delivery });
    }
    metrics.attempts.inc({ result: result.result });
    const attempt = delivery.attempts + 1;
    const outcome = { kind: "attempt" as const, delivery, attempt, startedAt, result, reason: null };
    if (result.result === "delivered") {
      await this.settle({ ...outcome, status: "delivered", waitMs: null });
      const occurredAt = Date.parse((delivery.body as { occurredAt?: string }).occurredAt ?? "");
      if (Number.isFinite(occurredAt)) metrics.latency.observe(Math.max(0, (Date.now() - occurredAt) / 1000));
      return;
    }
    const schedule = this.options.retrySchedule;
    if (attempt <= schedule.length) {
      const wait = Math.round(schedule[attempt - 1]! * (1 + Math.random() * (this.options.jitter ?? 0.1)));
      await this.settle({ ...outcome, status: "pending", waitMs: wait });
      // Wake the claimer when it is due, rather than at the next poll (matters for short schedules).
      if (wait < this.options.pollMs) setTimeout(() => this.wake(), wait).unref();
      return;
    }
    const reason = await this.failureReason(delivery, attempt, result).catch(
      () => `event ${delivery.event_id} not accepted after ${attempt} attempts`,
    );
    await this.settle({ ...outcome, status: "failed", waitMs: null, reason });
  }

  /**
   * Queues an outcome for the next record statement and resolves once it was written (or could not be:
   * the delivery then stays pending under its lease and is sent again when it runs out). Frees its sender.
   */
  private settle(outcome: Outcome): Promise<void> {
    return new Promise<void>((resolve) => {
      this.queue.push({ outcome, done: resolve });
      this.flushing ??= this.flush();
    }).finally(() => {
      const id = outcome.delivery.subscription_id;
      const left = (this.inFlight.get(id) ?? 1) - 1;
      if (left > 0) this.inFlight.set(id, left);
      else this.inFlight.delete(id);
      this.inFlightTotal--;
      this.wake();
    });
  }

  /** Records what is queued, one statement per batch, until the queue is empty. */
  private async flush(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve)); // outcomes of the same moment share it
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 500);
        try {
          await this.record(batch.map((queued) => queued.outcome));
        } catch (error) {
          this.options.logger.warn(
            { err: error, outcomes: batch.length },
            "sender: recording outcomes failed; those deliveries are sent again after their lease",
          );
        }
        for (const queued of batch) queued.done();
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /**
   * Outcomes in one statement: the attempts, the deliveries' new states and the subscriptions that are now
   * failing, each only where the claim still holds (same lease, still pending: a resume or redeliver since
   * then starts a new round the record must not overwrite).
   */
  private async record(outcomes: Outcome[]): Promise<void> {
    const { db, metrics, logger } = this.options;
    const column = <T>(f: (outcome: Outcome) => T) => outcomes.map(f);
    const attempt = (o: Outcome) => (o.kind === "attempt" ? o : null);
    const written = await db.query<{ subscription_id: string; status: string; failing: boolean }>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::int[],
                              $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::int[], $12::text[])
                  AS i(subscription_id, seq, claimed_until, kind, status, attempt, started_at, latency_ms,
                       status_code, error, wait_ms, reason)),
       updated AS (
         UPDATE ${db.gateway}.webhook_deliveries d
            SET status = coalesce(i.status, d.status),
                attempts = coalesce(i.attempt, d.attempts),
                last_status = CASE WHEN i.kind = 'attempt' THEN i.status_code ELSE d.last_status END,
                last_error = CASE WHEN i.kind = 'release' THEN d.last_error ELSE i.error END,
                delivered_at = CASE WHEN i.status = 'delivered' THEN now() ELSE d.delivered_at END,
                next_attempt_at = CASE WHEN i.wait_ms IS NOT NULL THEN now() + i.wait_ms * interval '1 millisecond'
                                       WHEN i.kind = 'release' THEN now()
                                       ELSE d.next_attempt_at END
           FROM input i
          WHERE d.subscription_id = i.subscription_id AND d.seq = i.seq
            AND d.next_attempt_at = i.claimed_until AND d.status = 'pending'
         RETURNING d.subscription_id, d.seq, d.status),
       attempts AS (
         INSERT INTO ${db.gateway}.webhook_attempts
           (subscription_id, seq, attempt, started_at, latency_ms, status_code, error)
         SELECT i.subscription_id, i.seq, i.attempt, i.started_at, i.latency_ms, i.status_code, i.error
           FROM input i JOIN updated u USING (subscription_id, seq) WHERE i.kind = 'attempt'),
       failing AS (
         UPDATE ${db.gateway}.webhook_subscriptions s
            SET status = 'failing', failure_reason = i.reason, updated_at = now()
           FROM input i JOIN updated u USING (subscription_id, seq)
          WHERE s.id = i.subscription_id AND i.reason IS NOT NULL AND s.status = 'active'
         RETURNING s.id)
       SELECT u.subscription_id, u.status, u.subscription_id IN (SELECT id FROM failing) AS failing
         FROM updated u`,
      [
        column((o) => o.delivery.subscription_id),
        column((o) => o.delivery.seq),
        column((o) => o.delivery.claimed_until),
        column((o) => o.kind),
        column((o) => (o.kind === "attempt" ? o.status : o.kind === "withheld" ? "withheld" : null)),
        column((o) => attempt(o)?.attempt ?? null),
        column((o) => attempt(o)?.startedAt ?? null),
        column((o) => attempt(o)?.result.latencyMs ?? null),
        column((o) => attempt(o)?.result.statusCode ?? null),
        column((o) => (o.kind === "withheld" ? "no longer allowed" : (attempt(o)?.result.error ?? null))),
        column((o) => attempt(o)?.waitMs ?? null),
        column((o) => attempt(o)?.reason ?? null),
      ],
    );
    for (const row of written) {
      if (row.status === "withheld") metrics.withheld.inc();
      if (row.failing) {
        metrics.failures.inc();
        logger.warn({ subscription: row.subscription_id }, "subscription failing");
      }
    }
  }

  /** Retries used up: why, for the owner and the operator (time since this round's first attempt). */
  private async failureReason(delivery: Claimed, attempt: number, outcome: PostResult): Promise<string> {
    const { db } = this.options;
    // Since the first attempt of this round (a resume or redeliver starts a new one at attempt 1).
    const [row] = await db.query<{ seconds: number | null }>(
      `SELECT extract(epoch FROM now() - max(started_at))::float8 AS seconds FROM ${db.gateway}.webhook_attempts
        WHERE subscription_id = $1 AND seq = $2 AND attempt = 1`,
      [delivery.subscription_id, delivery.seq],
    );
    const over = formatDuration(row?.seconds ?? 0);
    const last = outcome.statusCode !== null ? String(outcome.statusCode) : (outcome.error ?? "no answer");
    return `event ${delivery.event_id} not accepted after ${attempt} attempts over ${over}: last ${last}`;
  }

  /**
   * The policy now for each claimed delivery, not audited again (the outbox row was audited when admitted):
   * the facts of every owner and patient of the claim loaded in one statement.
   */
  private async stillAllowed(claimed: Claimed[]): Promise<boolean[]> {
    const { db, audit } = this.options;
    const facts = new policy.SharedFacts(db);
    const owners = [...new Set(claimed.map((delivery) => delivery.owner))];
    const viewers = new Map(
      await Promise.all(owners.map(async (owner) => [owner, await this.options.viewers.of(owner)] as const)),
    );
    return Promise.all(
      claimed.map(async (delivery) => {
        if (delivery.envelope === null) return false; // no longer in the feed (rebuilt): never send blind
        const envelope = parseEnvelope(delivery.envelope);
        if (toFeedEvent(envelope)?.id !== delivery.event_id) return false;
        const now = new RequestPolicy({
          db,
          viewer: viewers.get(delivery.owner)!,
          requestId: `webhook:${delivery.subscription_id}:recheck`,
          audit,
          channel: "webhook",
          shared: facts,
        });
        return stillAdmitted(() => now, envelope);
      }),
    );
  }
}
