import type { Logger } from "@carechain/common";
import { type AuditSink, type Database, loadViewer, RequestPolicy, type Viewer } from "@carechain/gateway";
import {
  admitEvent,
  type EventType,
  type FeedItem,
  feedEnd,
  filterOf,
  matches,
  readFeedPage,
  toFeedEvent,
} from "@carechain/gateway/events";

/** A subscription as the filler claims it. */
type Claimed = {
  id: string;
  owner: string;
  event_types: string[];
  patients: string[] | null;
  feed_origin: string | null;
  feed_seq: string;
};

type Row = { seq: bigint; eventId: string; type: string; patient: string; body: string };

export type FillOutcome = {
  /** Feed rows decided (matching or not), outbox rows inserted, subscriptions handled. */
  decided: number;
  admitted: number;
  subscriptions: number;
};

export type FillerOptions = {
  db: Database;
  audit: AuditSink;
  logger: Logger;
  /** Names this instance in `lease_owner`. */
  instanceId: string;
  leaseMs: number;
  /** Feed rows read per subscription and round. */
  pageSize?: number;
  /** Subscriptions claimed at once. */
  claimBatch?: number;
  /** Subscriptions filled at once, and decisions per subscription at once. */
  concurrency?: number;
  /** Called after each committed page (metrics, progress). */
  onCommitted?: (outcome: { decided: number; admitted: number }) => void;
  /** Test hook: runs after the decisions (audited) and before the outbox commit; a throw aborts the page. */
  beforeCommit?: (subscriptionId: string) => Promise<void> | void;
};

/**
 * Fills the outbox (webhook_deliveries) from the committed event feed, subscription by subscription. A
 * subscription is claimed with a lease (FOR UPDATE SKIP LOCKED: instances share the subscriptions, the unit
 * of scale-out), its next page of the feed read with the gateway's own reader (narrowed to the owner), every
 * matching event decided by admitEvent (audited, channel "webhook"), and the admitted events inserted in
 * the same transaction that advances `feed_seq`: a crash before COMMIT decides the page again (audited
 * again, nothing sent twice), after it nothing is read twice. The commit is fenced by the lease and the
 * seq it started from, so an instance whose lease ran out cannot overwrite its successor's work.
 */
export class OutboxFiller {
  private readonly pageSize: number;
  private readonly claimBatch: number;
  private readonly concurrency: number;

  constructor(private readonly options: FillerOptions) {
    this.pageSize = options.pageSize ?? 500;
    this.claimBatch = options.claimBatch ?? 20;
    this.concurrency = options.concurrency ?? 4;
  }

  private readonly viewers = new Map<string, { viewer: Viewer; until: number }>();

  /**
   * The owner's role, kept a few seconds: it changes only with a registration on chain, while the grants
   * every decision reads (facts) are loaded fresh for each event.
   */
  private async viewerOf(owner: Parameters<typeof loadViewer>[1]): Promise<Viewer> {
    const cached = this.viewers.get(owner);
    if (cached && cached.until > Date.now()) return cached.viewer;
    const viewer = await loadViewer(this.options.db, owner);
    if (this.viewers.size > 10_000) this.viewers.clear();
    this.viewers.set(owner, { viewer, until: Date.now() + 5_000 });
    return viewer;
  }

  /** Claims and fills every subscription behind the feed until none is (or `signal` aborts). */
  async fillRound(signal?: AbortSignal): Promise<FillOutcome> {
    const total: FillOutcome = { decided: 0, admitted: 0, subscriptions: 0 };
    const end = await feedEnd(this.options.db);
    while (!signal?.aborted) {
      const claimed = await this.claim(end);
      if (claimed.length === 0) break;
      await forEachLimited(claimed, this.concurrency, async (subscription) => {
        const outcome = await this.fillOne(subscription, end.origin).catch(async (error: unknown) => {
          // Keep the lease until it runs out: the subscription is tried again then, not in a hot loop.
          this.options.logger.warn(
            { err: error, subscription: subscription.id },
            "filling the outbox failed",
          );
          return { decided: 0, admitted: 0 };
        });
        total.decided += outcome.decided;
        total.admitted += outcome.admitted;
        total.subscriptions++;
      });
    }
    return total;
  }

  /** Subscriptions behind the feed (or on another generation) whose lease is free, now leased to us. */
  private async claim(end: { origin: string; seq: bigint }): Promise<Claimed[]> {
    const { db, instanceId, leaseMs } = this.options;
    return db.query<Claimed>(
      `UPDATE ${db.gateway}.webhook_subscriptions s
          SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
        WHERE s.id IN (
          SELECT id FROM ${db.gateway}.webhook_subscriptions
           WHERE (lease_until IS NULL OR lease_until < now())
             AND (feed_origin IS NULL OR feed_origin = $3 OR status <> 'failing')
             AND (feed_origin IS DISTINCT FROM $3 OR feed_seq < $4)
           ORDER BY feed_seq LIMIT $5
           FOR UPDATE SKIP LOCKED)
        RETURNING s.id, s.owner, s.event_types, s.patients, s.feed_origin, s.feed_seq::text`,
      [instanceId, leaseMs, end.origin, end.seq.toString(), this.claimBatch],
    );
  }

  private async fillOne(
    subscription: Claimed,
    origin: string,
  ): Promise<{ decided: number; admitted: number }> {
    const { db, audit } = this.options;
    if (subscription.feed_origin !== null && subscription.feed_origin !== origin) {
      await this.markRebuilt(subscription, origin);
      return { decided: 0, admitted: 0 };
    }
    const after = BigInt(subscription.feed_seq);
    const owner = subscription.owner.toLowerCase() as Parameters<typeof loadViewer>[1];
    const filter = filterOf({
      types: subscription.event_types as EventType[],
      patients: subscription.patients,
    });
    const page = await readFeedPage(db, {
      viewer: owner,
      after,
      limit: this.pageSize,
      types: filter.sources,
      patients: filter.patients,
    });
    if (page.origin !== origin) {
      await this.markRebuilt(subscription, page.origin);
      return { decided: 0, admitted: 0 };
    }
    const policy = new RequestPolicy({
      db,
      viewer: await this.viewerOf(owner),
      requestId: `webhook:${subscription.id}`,
      audit,
      channel: "webhook",
    });
    const wanted = page.items.filter((item) => matches(filter, item));
    const decide = async (item: FeedItem): Promise<Row | null> => {
      const event = toFeedEvent(item.envelope);
      if (event === null) return null;
      // Audited under the subscription and the event's place in the chain (r: its retraction).
      const requestId = `webhook:${subscription.id}:${event.blockNumber}.${event.logIndex}${event.retracted ? "r" : ""}`;
      if (!(await admitEvent((asOf) => policy.derive({ asOf, requestId }), item.envelope))) return null;
      return {
        seq: item.seq,
        eventId: event.id,
        type: event.type,
        patient: event.patient,
        body: JSON.stringify(event),
      };
    };
    // Originals first (independent: decided concurrently); then the retractions, each only for a
    // subscription that received the original (earlier, or in this very page).
    const originals = await mapLimited(
      wanted.filter((item) => !item.envelope.retracted),
      this.concurrency * 4,
      decide,
    );
    const rows = originals.filter((row): row is Row => row !== null);
    const retractions = wanted.filter((item) => item.envelope.retracted);
    if (retractions.length > 0) {
      const received = new Set(rows.map((row) => row.eventId));
      const earlier = await db.query<{ event_id: string }>(
        `SELECT event_id FROM ${db.gateway}.webhook_deliveries
          WHERE subscription_id = $1 AND event_id = ANY($2::text[]) AND status <> 'withheld'`,
        [subscription.id, retractions.map((item) => item.envelope.id)],
      );
      for (const row of earlier) received.add(row.event_id);
      for (const item of retractions) {
        if (!received.has(item.envelope.id)) continue;
        const row = await decide(item);
        if (row) rows.push(row);
      }
      rows.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
    }
    let next = page.items.at(-1)?.seq ?? after;
    if (!page.full && page.horizon > next) next = page.horizon;
    await this.options.beforeCommit?.(subscription.id);
    const committed = await this.commit(subscription, origin, after, next, rows);
    if (!committed) {
      this.options.logger.warn(
        { subscription: subscription.id },
        "lease lost before commit; page left to its new owner",
      );
      return { decided: 0, admitted: 0 };
    }
    const outcome = { decided: page.items.length, admitted: rows.length };
    this.options.onCommitted?.(outcome);
    return outcome;
  }

  /**
   * One statement (so one transaction): the new `feed_seq` and the admitted rows, only while we still hold
   * the lease and nobody moved the subscription since we read it; false (nothing written) otherwise.
   */
  private async commit(
    subscription: Claimed,
    origin: string,
    from: bigint,
    to: bigint,
    rows: Row[],
  ): Promise<boolean> {
    const { db, instanceId } = this.options;
    const [result] = await db.query<{ advanced: number }>(
      `WITH advanced AS (
         UPDATE ${db.gateway}.webhook_subscriptions
            SET feed_seq = $2, feed_origin = $3, lease_owner = NULL, lease_until = NULL
          WHERE id = $1 AND lease_owner = $4 AND feed_seq = $5
         RETURNING id),
       inserted AS (
         INSERT INTO ${db.gateway}.webhook_deliveries (subscription_id, seq, event_id, event_type, patient, body)
         SELECT a.id, r.* FROM advanced a,
                unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::jsonb[]) AS r
         ON CONFLICT (subscription_id, seq) DO NOTHING)
       SELECT count(*)::int AS advanced FROM advanced`,
      [
        subscription.id,
        to.toString(),
        origin,
        instanceId,
        from.toString(),
        rows.map((row) => row.seq.toString()),
        rows.map((row) => row.eventId),
        rows.map((row) => row.type),
        rows.map((row) => row.patient),
        rows.map((row) => row.body),
      ],
    );
    return result?.advanced === 1;
  }

  /** The feed was rebuilt: its seqs are another numbering, so this subscription's place in it is lost. */
  private async markRebuilt(subscription: Claimed, origin: string): Promise<void> {
    const { db, instanceId } = this.options;
    const reason = `the event log was rebuilt (generation ${subscription.feed_origin} -> ${origin}): this subscription's place in it is lost; create it again (or from an events cursor) and drop duplicates by event id`;
    await db.query(
      `UPDATE ${db.gateway}.webhook_subscriptions
          SET status = 'failing', failure_reason = $2, lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE id = $1 AND lease_owner = $3`,
      [subscription.id, reason, instanceId],
    );
    this.options.logger.warn(
      { subscription: subscription.id, origin },
      "subscription failing: event log rebuilt",
    );
  }
}

/** `fn` over `items`, at most `limit` at once, results in order. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const forEachLimited = <T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>) =>
  mapLimited(items, limit, fn).then(() => {});
