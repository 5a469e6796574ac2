import type { Logger } from "@carechain/common";
import { type AuditSink, type Database, policy, RequestPolicy } from "@carechain/gateway";
import {
  admitEvent,
  deliveryRequestId,
  type EventType,
  type FeedItem,
  type FeedPage,
  type Filter,
  feedEnd,
  filterOf,
  matches,
  type PolicyAt,
  readFeedPages,
  toFeedEvent,
} from "@carechain/gateway/events";
import type { Viewers } from "../viewers.ts";

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
  /** The owners' roles (shared with the senders). */
  viewers: Viewers;
  /** Names this instance in `lease_owner`. */
  instanceId: string;
  leaseMs: number;
  /** Feed rows read per subscription and round. */
  pageSize?: number;
  /** Subscriptions claimed (and committed) at once. */
  claimBatch?: number;
  /** Decisions per subscription at once. */
  concurrency?: number;
  /** Called after each committed page (metrics, progress). */
  onCommitted?: (outcome: { decided: number; admitted: number }) => void;
  /** Test hook: runs after the decisions (audited) and before the outbox commit; a throw aborts the page. */
  beforeCommit?: (subscriptionId: string) => Promise<void> | void;
};

/** A claimed subscription with its page of the feed, on its way to the commit. */
type Filling = { subscription: Claimed; after: bigint; filter: Filter; page: FeedPage; rows: Row[] };

/**
 * Fills the outbox (webhook_deliveries) from the committed event feed, a batch of subscriptions at a time.
 * Subscriptions are claimed with a lease (FOR UPDATE SKIP LOCKED: instances share the subscriptions, the
 * unit of scale-out), their next pages of the feed read in one statement with the gateway's own reader
 * (narrowed to each owner), every matching event decided by admitEvent (audited, channel "webhook"), and
 * the admitted events inserted in the same statement that advances each `feed_seq`: a crash before it
 * decides the pages again (audited again, nothing sent twice), after it nothing is read twice. The commit
 * is fenced per subscription by the lease and the seq it started from, so an instance whose lease ran out
 * cannot overwrite its successor's work.
 *
 * Round trips: the decisions of a batch load their facts together (SharedFacts: one statement for every
 * owner, patient and event as of now, one as of the events), instead of two statements per event; the
 * audit log writes the entries of concurrent decisions in one statement (group commit).
 */
export class OutboxFiller {
  private readonly pageSize: number;
  private readonly claimBatch: number;
  private readonly concurrency: number;

  constructor(private readonly options: FillerOptions) {
    this.pageSize = options.pageSize ?? 500;
    this.claimBatch = options.claimBatch ?? 50;
    this.concurrency = options.concurrency ?? 500;
  }

  /** Claims and fills every subscription behind the feed until none is (or `signal` aborts). */
  async fillRound(signal?: AbortSignal): Promise<FillOutcome> {
    const total: FillOutcome = { decided: 0, admitted: 0, subscriptions: 0 };
    const end = await feedEnd(this.options.db);
    while (!signal?.aborted) {
      const claimed = await this.claim(end);
      if (claimed.length === 0) break;
      const outcome = await this.fillBatch(claimed, end.origin);
      total.decided += outcome.decided;
      total.admitted += outcome.admitted;
      total.subscriptions += claimed.length;
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

  /** Reads, decides and commits the pages of claimed subscriptions; a failing one keeps its lease. */
  private async fillBatch(
    claimed: Claimed[],
    origin: string,
  ): Promise<{ decided: number; admitted: number }> {
    const { db, logger } = this.options;
    const failed = (subscription: Claimed) => (error: unknown) => {
      // Keep the lease until it runs out: the subscription is tried again then, not in a hot loop.
      logger.warn({ err: error, subscription: subscription.id }, "filling the outbox failed");
    };
    const rebuilt = claimed.filter((s) => s.feed_origin !== null && s.feed_origin !== origin);
    const current = claimed.filter((s) => !rebuilt.includes(s));
    for (const subscription of rebuilt)
      await this.markRebuilt(subscription, origin).catch(failed(subscription));
    const fillings: Filling[] = current.map((subscription) => ({
      subscription,
      after: BigInt(subscription.feed_seq),
      filter: filterOf({ types: subscription.event_types as EventType[], patients: subscription.patients }),
      page: { origin, horizon: 0n, items: [], full: false },
      rows: [],
    }));
    const pages = await readFeedPages(
      db,
      fillings.map(({ subscription, after, filter }) => ({
        viewer: subscription.owner.toLowerCase(),
        after,
        limit: this.pageSize,
        types: filter.sources,
        patients: filter.patients,
      })),
    );
    for (const [i, page] of pages.entries()) fillings[i]!.page = page;
    const moved = fillings.filter((filling) => filling.page.origin !== origin);
    for (const { subscription, page } of moved)
      await this.markRebuilt(subscription, page.origin).catch(failed(subscription));

    // Decided together (their facts shared); a subscription whose decisions fail is left out of the commit.
    const ready: Filling[] = [];
    const facts = new policy.SharedFacts(db);
    // Roles first (kept a few seconds), so that every decision asks for its facts in the same tick.
    const owners = new Set(fillings.map((filling) => filling.subscription.owner));
    await Promise.all([...owners].map((owner) => this.options.viewers.of(owner).catch(() => {})));
    await forEachLimited(
      fillings.filter((filling) => !moved.includes(filling)),
      fillings.length,
      async (filling) => {
        try {
          filling.rows = await this.decideAll(filling, facts);
          await this.options.beforeCommit?.(filling.subscription.id);
          ready.push(filling);
        } catch (error) {
          failed(filling.subscription)(error);
        }
      },
    );
    const committed = await this.commit(ready, origin);
    const outcome = { decided: 0, admitted: 0 };
    for (const filling of ready) {
      if (!committed.has(filling.subscription.id)) {
        logger.warn(
          { subscription: filling.subscription.id },
          "lease lost before commit; page left to its new owner",
        );
        continue;
      }
      const done = { decided: filling.page.items.length, admitted: filling.rows.length };
      outcome.decided += done.decided;
      outcome.admitted += done.admitted;
      this.options.onCommitted?.(done);
    }
    return outcome;
  }

  /** The page's admitted events as outbox rows (originals, then the retractions of received originals). */
  private async decideAll(filling: Filling, facts: policy.SharedFacts): Promise<Row[]> {
    const { db, audit } = this.options;
    const { subscription, filter, page } = filling;
    const viewer = await this.options.viewers.of(subscription.owner);
    const wanted = page.items.filter((item) => matches(filter, item));
    const decide = async (item: FeedItem): Promise<Row | null> => {
      const event = toFeedEvent(item.envelope);
      if (event === null) return null;
      // Audited under the subscription and the event's place in the chain (r: its retraction).
      const requestId = deliveryRequestId(`webhook:${subscription.id}`, item.envelope);
      const policyAt: PolicyAt = (asOf) =>
        new RequestPolicy({ db, viewer, requestId, audit, channel: "webhook", asOf, shared: facts });
      if (!(await admitEvent(policyAt, item.envelope))) return null;
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
      this.concurrency,
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
    return rows;
  }

  /**
   * One statement (so one transaction) per batch: each subscription's new `feed_seq` and its admitted
   * rows, only while we still hold its lease and nobody moved it since we read it. Returns the ids of the
   * subscriptions committed; the others wrote nothing.
   */
  private async commit(fillings: Filling[], origin: string): Promise<Set<string>> {
    const { db, instanceId } = this.options;
    if (fillings.length === 0) return new Set();
    const next = (filling: Filling) => {
      const { page, after } = filling;
      const last = page.items.at(-1)?.seq ?? after;
      return !page.full && page.horizon > last ? page.horizon : last;
    };
    const rows = fillings.flatMap((filling) =>
      filling.rows.map((row) => ({ id: filling.subscription.id, ...row })),
    );
    const advanced = await db.query<{ id: string }>(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS i(id, next, previous)),
       advanced AS (
         UPDATE ${db.gateway}.webhook_subscriptions s
            SET feed_seq = i.next, feed_origin = $4, lease_owner = NULL, lease_until = NULL
           FROM input i
          WHERE s.id = i.id AND s.lease_owner = $5 AND s.feed_seq = i.previous
         RETURNING s.id),
       inserted AS (
         INSERT INTO ${db.gateway}.webhook_deliveries (subscription_id, seq, event_id, event_type, patient, body)
         SELECT r.* FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::jsonb[])
                         AS r(subscription_id, seq, event_id, event_type, patient, body)
          WHERE r.subscription_id IN (SELECT id FROM advanced)
         ON CONFLICT (subscription_id, seq) DO NOTHING)
       SELECT id FROM advanced`,
      [
        fillings.map((filling) => filling.subscription.id),
        fillings.map((filling) => next(filling).toString()),
        fillings.map((filling) => filling.after.toString()),
        origin,
        instanceId,
        rows.map((row) => row.id),
        rows.map((row) => row.seq.toString()),
        rows.map((row) => row.eventId),
        rows.map((row) => row.type),
        rows.map((row) => row.patient),
        rows.map((row) => row.body),
      ],
    );
    return new Set(advanced.map((row) => row.id));
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
