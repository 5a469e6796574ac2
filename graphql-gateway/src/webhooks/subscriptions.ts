import { randomBytes } from "node:crypto";
import { newWebhookSecret } from "@carechain/consumer";
import DataLoader from "dataloader";
import type { Address } from "viem";
import { isAddress } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { badUserInput, GatewayError } from "../errors.ts";
import { decodeEventCursor, seqIn } from "../events/cursor.ts";
import { feedEnd } from "../events/feed-log.ts";
import { type EventType, eventTypes } from "../events/schema.ts";
import { decodeCursor, encodeCursor, type PageInfo, pageSize } from "../loaders/cursor.ts";
import { checkWebhookTarget, type ResolveHost } from "./url-rules.ts";

/**
 * Webhook subscriptions as data (table webhook_subscriptions, 003_webhooks.sql): an organization's
 * definition (URL, event types, patients, signing secret, active/paused) written here; the delivery
 * service fills the outbox (webhook_deliveries) from where each subscription starts and sends it.
 */

export type WebhookStatus = "active" | "paused" | "failing";

export type WebhookSubscription = {
  id: string;
  owner: Address;
  url: string;
  types: EventType[];
  patients: Address[] | null;
  status: WebhookStatus;
  failureReason: string | null;
  createdAt: Date;
};

export type WebhookDeliveryStatus = "pending" | "delivered" | "withheld" | "failed";

export type WebhookAttempt = {
  startedAt: Date;
  latencyMs: number;
  statusCode: number | null;
  error: string | null;
};

export type WebhookDelivery = {
  seq: string;
  eventId: string;
  type: string;
  patient: Address;
  status: WebhookDeliveryStatus;
  createdAt: Date;
  deliveredAt: Date | null;
  attempts: WebhookAttempt[];
};

/** What the operator decides (WEBHOOK_ALLOW_PRIVATE_URLS, WEBHOOK_MAX_SUBSCRIPTIONS). */
export type WebhookSettings = { allowPrivateUrls: boolean; maxSubscriptions: number };

export type CreateSubscriptionInput = {
  url: string;
  types: readonly string[];
  patients?: readonly string[] | null;
  /** An events cursor (Query.events, Subscription.events): start after it instead of at the feed's end. */
  after?: string | null;
};

/** At most this many patients in one subscription (the events API's filter has the same bound). */
export const maxSubscriptionPatients = 1000;

const columns = `id, owner, url, event_types AS types, patients, status, failure_reason AS "failureReason",
  created_at AS "createdAt"`;

function notFound(): never {
  // The same answer whether the subscription does not exist or is another owner's.
  throw new GatewayError("NOT_FOUND", "No such webhook subscription.").toGraphQLError();
}

function validTypes(types: readonly string[]): EventType[] {
  const unique = [...new Set(types)];
  if (unique.length === 0)
    throw badUserInput(`\`types\` must name at least one event type: ${eventTypes.join(", ")}.`);
  const unknown = unique.find((type) => !(eventTypes as readonly string[]).includes(type));
  if (unknown !== undefined)
    throw badUserInput(`Unknown event type ${unknown}; the types are ${eventTypes.join(", ")}.`);
  return unique as EventType[];
}

function validPatients(patients: readonly string[] | null | undefined): Address[] | null {
  if (patients === null || patients === undefined) return null;
  if (patients.length === 0)
    throw badUserInput(
      "`patients` must name at least one patient, or be null for every patient you may see.",
    );
  if (patients.length > maxSubscriptionPatients)
    throw badUserInput(`\`patients\` must name at most ${maxSubscriptionPatients} patients.`);
  const bad = patients.find((patient) => !isAddress(patient));
  if (bad !== undefined) throw badUserInput("`patients` must be addresses (0x and 40 hex digits).");
  return [...new Set(patients.map((patient) => patient.toLowerCase() as Address))];
}

/**
 * A new subscription of `owner` (an organization: the caller checks), with its signing secret (shown
 * once). Starts at the feed's end now, or after `input.after`. Refuses bad input with BAD_USER_INPUT
 * saying what is allowed, a cursor of another feed generation with CURSOR_EXPIRED, and more than
 * `maxSubscriptions` per owner.
 */
export async function createSubscription(
  db: Database,
  owner: string,
  input: CreateSubscriptionInput,
  settings: WebhookSettings & { resolve?: ResolveHost },
): Promise<{ subscription: WebhookSubscription; secret: string }> {
  const types = validTypes(input.types);
  const patients = validPatients(input.patients);
  const { url } = await checkWebhookTarget(input.url, {
    allowPrivate: settings.allowPrivateUrls,
    ...(settings.resolve ? { resolve: settings.resolve } : {}),
  });
  const cursor = input.after ? decodeEventCursor(input.after) : null;
  const end = await feedEnd(db);
  const start = cursor ? { origin: end.origin, seq: seqIn(cursor, end.origin) } : end;
  const id = `sub_${randomBytes(8).toString("hex")}`;
  const secret = newWebhookSecret();
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    // One creation per owner at a time, so that two concurrent ones cannot both pass the limit.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [
      `carechain-webhooks:${owner.toLowerCase()}`,
    ]);
    const { rows: counted } = await client.query<{ count: number }>(
      `SELECT count(*)::int AS count FROM ${db.gateway}.webhook_subscriptions WHERE owner = $1`,
      [owner.toLowerCase()],
    );
    if (counted[0]!.count >= settings.maxSubscriptions)
      throw badUserInput(
        `At most ${settings.maxSubscriptions} webhook subscriptions per organization; delete one first.`,
      );
    const { rows } = await client.query<WebhookSubscription>(
      `INSERT INTO ${db.gateway}.webhook_subscriptions
         (id, owner, url, event_types, patients, secret, status, feed_origin, feed_seq)
       VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)
       RETURNING ${columns}`,
      [id, owner.toLowerCase(), url.href, types, patients, secret, start.origin, start.seq.toString()],
    );
    await client.query("COMMIT");
    return { subscription: rows[0]!, secret };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The owner's subscriptions, oldest first. */
export function listSubscriptions(db: Database, owner: string): Promise<WebhookSubscription[]> {
  return db.query<WebhookSubscription>(
    `SELECT ${columns} FROM ${db.gateway}.webhook_subscriptions WHERE owner = $1 ORDER BY created_at, id`,
    [owner.toLowerCase()],
  );
}

/** One of the owner's subscriptions; null for anyone else's (as for none). */
export async function getSubscription(
  db: Database,
  owner: string,
  id: string,
): Promise<WebhookSubscription | null> {
  const [row] = await db.query<WebhookSubscription>(
    `SELECT ${columns} FROM ${db.gateway}.webhook_subscriptions WHERE id = $1 AND owner = $2`,
    [id, owner.toLowerCase()],
  );
  return row ?? null;
}

/** Nothing is sent while paused; the outbox keeps filling, so resuming loses nothing. */
export async function pauseSubscription(
  db: Database,
  owner: string,
  id: string,
): Promise<WebhookSubscription> {
  const [row] = await db.query<WebhookSubscription>(
    `UPDATE ${db.gateway}.webhook_subscriptions SET status = 'paused', updated_at = now()
      WHERE id = $1 AND owner = $2 RETURNING ${columns}`,
    [id, owner.toLowerCase()],
  );
  return row ?? notFound();
}

/**
 * Paused or failing -> active, and deliveries that exhausted their retries ('failed') are due again now
 * (attempts from 0), in one transaction.
 */
export async function resumeSubscription(
  db: Database,
  owner: string,
  id: string,
): Promise<WebhookSubscription> {
  const { origin } = await feedEnd(db);
  const client = await db.pool.connect();
  try {
    await client.query("BEGIN");
    const { rows: found } = await client.query<{ feed_origin: string | null }>(
      `SELECT feed_origin FROM ${db.gateway}.webhook_subscriptions WHERE id = $1 AND owner = $2 FOR UPDATE`,
      [id, owner.toLowerCase()],
    );
    if (!found[0]) notFound();
    // Its place is a seq of another generation of the feed: resuming would only fail again.
    if (found[0].feed_origin !== null && found[0].feed_origin !== origin)
      throw new GatewayError(
        "CONFLICT",
        "The event log was rebuilt since this subscription's last event, so its place in the log is lost: create a new subscription (with `after:` a cursor of the new log, or none) and drop events already received by their id.",
      ).toGraphQLError();
    const { rows } = await client.query<WebhookSubscription>(
      `UPDATE ${db.gateway}.webhook_subscriptions SET status = 'active', failure_reason = NULL, updated_at = now()
        WHERE id = $1 AND owner = $2 RETURNING ${columns}`,
      [id, owner.toLowerCase()],
    );
    if (!rows[0]) notFound();
    await client.query(
      `UPDATE ${db.gateway}.webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = now()
        WHERE subscription_id = $1 AND status = 'failed'`,
      [id],
    );
    await client.query("COMMIT");
    return rows[0];
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** Deletes the subscription, its outbox and its log (ON DELETE CASCADE); NOT_FOUND for anyone else's. */
export async function deleteSubscription(db: Database, owner: string, id: string): Promise<true> {
  const rows = await db.query(
    `DELETE FROM ${db.gateway}.webhook_subscriptions WHERE id = $1 AND owner = $2 RETURNING id`,
    [id, owner.toLowerCase()],
  );
  return rows.length > 0 ? true : notFound();
}

/**
 * "Redeliver from this event": every delivery of the subscription from the event's (by seq) on is due
 * again now, attempts from 0 (the delivery service decides each again before sending). Returns how many.
 * NOT_FOUND when the subscription is not the owner's or has no delivery of that event.
 */
export async function redeliverFrom(
  db: Database,
  owner: string,
  id: string,
  fromEventId: string,
): Promise<number> {
  if (!(await getSubscription(db, owner, id))) notFound();
  const [row] = await db.query<{ count: number; found: boolean }>(
    `WITH start AS (
       SELECT min(seq) AS seq FROM ${db.gateway}.webhook_deliveries WHERE subscription_id = $1 AND event_id = $2),
     changed AS (
       UPDATE ${db.gateway}.webhook_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = now()
         FROM start WHERE d.subscription_id = $1 AND d.seq >= start.seq RETURNING 1)
     SELECT (SELECT count(*)::int FROM changed) AS count, (SELECT seq IS NOT NULL FROM start) AS found`,
    [id, fromEventId],
  );
  if (!row?.found)
    throw new GatewayError(
      "NOT_FOUND",
      "This subscription has no delivery of that event: pass the `eventId` of one of its deliveries.",
    ).toGraphQLError();
  return row.count;
}

/**
 * A page of the subscription's delivery log, newest first, each delivery with its attempts (oldest
 * first): two statements per page, whatever its size. `subscriptionId` must be the viewer's (the caller
 * got it through the owner's lookup).
 */
export async function deliveryLog(
  db: Database,
  subscriptionId: string,
  args: { first?: number | null; after?: string | null },
  maxPageSize: number,
): Promise<{ edges: { cursor: string; node: WebhookDelivery }[]; pageInfo: PageInfo }> {
  const first = pageSize(args.first, maxPageSize, 50);
  const after = args.after ? decodeCursor(args.after, subscriptionId, 1) : null;
  if (after && !/^\d{1,19}$/.test(String(after[0])))
    throw badUserInput("Invalid cursor: use an `endCursor` returned by this same list.");
  const rows = await db.query<Omit<WebhookDelivery, "attempts">>(
    `SELECT seq::text AS seq, event_id AS "eventId", event_type AS type, patient, status,
            created_at AS "createdAt", delivered_at AS "deliveredAt"
       FROM ${db.gateway}.webhook_deliveries
      WHERE subscription_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint)
      ORDER BY seq DESC LIMIT $3`,
    [subscriptionId, after ? String(after[0]) : null, first + 1],
  );
  const page = rows.slice(0, first);
  const attempts = new Map<string, WebhookAttempt[]>(page.map((row) => [row.seq, []]));
  if (page.length > 0) {
    const found = await db.query<WebhookAttempt & { seq: string }>(
      `SELECT seq::text AS seq, started_at AS "startedAt", latency_ms AS "latencyMs", status_code AS "statusCode", error
         FROM ${db.gateway}.webhook_attempts
        WHERE subscription_id = $1 AND seq = ANY($2::bigint[])
        ORDER BY seq, id`,
      [subscriptionId, page.map((row) => row.seq)],
    );
    for (const { seq, ...attempt } of found) attempts.get(seq)?.push(attempt);
  }
  const edges = page.map((row) => ({
    cursor: encodeCursor(subscriptionId, [row.seq]),
    node: { ...row, attempts: attempts.get(row.seq) ?? [] },
  }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

/** Per request: the pending deliveries of any number of subscriptions in one statement. */
export function pendingCountLoader(db: Database): DataLoader<string, number> {
  return new DataLoader(async (ids) => {
    const rows = await db.query<{ id: string; count: number }>(
      `SELECT subscription_id AS id, count(*)::int AS count FROM ${db.gateway}.webhook_deliveries
        WHERE subscription_id = ANY($1) AND status = 'pending' GROUP BY subscription_id`,
      [ids],
    );
    const counts = new Map(rows.map((row) => [row.id, row.count]));
    return ids.map((id) => counts.get(id) ?? 0);
  });
}
