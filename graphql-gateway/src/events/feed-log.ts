import { type EventEnvelope, type EventName, parseEnvelope } from "@carechain/common";
import type { Database } from "../database/pool.ts";

/** One committed event of the feed: its place (`seq`, in commit order) in the feed of generation `origin`. */
export type FeedItem = { seq: bigint; origin: string; envelope: EventEnvelope };

/**
 * Which feed a seq belongs to: the projector's `event_feed` is numbered per generation (a rebuild replays
 * the topic into a fresh schema and numbers afresh), and the stable schema's `event_feed` is a view over the
 * active generation's table. The origin is a short hash of the schema that physically holds the table (the
 * view's source, or the table itself where there is no view, as in tests): it changes exactly when seqs stop
 * being comparable. Read in the same statement as the rows, so the two always agree.
 */
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

export const feedOriginSql = (db: Database) => `
  SELECT left(md5(coalesce(
    (SELECT n.nspname::text FROM pg_rewrite r
       JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                       AND d.refclassid = 'pg_class'::regclass
       JOIN pg_class c ON c.oid = d.refobjid AND c.relkind IN ('r', 'p') AND c.relname = 'event_feed'
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.ev_class = to_regclass(${literal(`${db.projection}.event_feed`)}) LIMIT 1),
    ${literal(db.projectionSchema)})), 12) AS origin`;

export type FeedPage = {
  origin: string;
  /** The feed's last seq in the same snapshot: every candidate up to it was returned (when not `full`). */
  horizon: bigint;
  items: FeedItem[];
  /** `limit` rows came back: there may be more before the horizon. */
  full: boolean;
};

/** What one reader asks of the feed: see readFeedPage. */
export type FeedPageRequest = {
  viewer: string;
  after: bigint;
  limit: number;
  types: readonly EventName[];
  patients: readonly string[] | null;
};

/**
 * Up to `limit` events after `after`, in seq order, of `types`, about `patients` (all when null), narrowed
 * to the patients `viewer` could possibly see: itself, those whose grant history names it (grants and
 * emergency access, past or present) and those whose alert recipients include it. That narrowing only
 * saves scanning: it is a superset of what the policy can allow, and the policy decides every event.
 */
export async function readFeedPage(db: Database, request: FeedPageRequest): Promise<FeedPage> {
  return (await readFeedPages(db, [request]))[0]!;
}

/**
 * readFeedPage for many readers in one statement (the webhook filler's subscriptions of a round), all in
 * the same snapshot: the pages in the order of `requests`.
 */
export async function readFeedPages(db: Database, requests: readonly FeedPageRequest[]): Promise<FeedPage[]> {
  if (requests.length === 0) return [];
  const p = db.projection;
  const rows = await db.query<{
    i: number;
    origin: string;
    horizon: string | null;
    seq: string | null;
    envelope: unknown;
  }>(
    `WITH origin AS (${feedOriginSql(db)}),
          requests AS (
            SELECT r.i, r.viewer, r.after, r.lim,
                   ARRAY(SELECT jsonb_array_elements_text(r.types)) AS types,
                   CASE WHEN jsonb_typeof(r.patients) = 'array'
                        THEN ARRAY(SELECT jsonb_array_elements_text(r.patients)) END AS patients
              FROM jsonb_to_recordset($1::jsonb)
                   AS r(i int, viewer text, after bigint, lim int, types jsonb, patients jsonb))
     SELECT q.i, o.origin, (SELECT max(seq) FROM ${p}.event_feed)::text AS horizon, f.seq::text AS seq, f.envelope
       FROM requests q CROSS JOIN origin o
       LEFT JOIN LATERAL (
         SELECT seq, envelope FROM ${p}.event_feed
          WHERE seq > q.after AND type = ANY(q.types)
            AND patient IN (
              SELECT q.viewer
              UNION SELECT patient FROM ${p}.grant_history WHERE grantee = q.viewer
              UNION SELECT patient FROM ${p}.alert_recipients WHERE recipients @> ARRAY[q.viewer])
            AND (q.patients IS NULL OR patient = ANY(q.patients))
          ORDER BY seq LIMIT q.lim) f ON true
      ORDER BY q.i, f.seq`,
    [
      JSON.stringify(
        requests.map((request, i) => ({
          i,
          viewer: request.viewer,
          after: request.after.toString(),
          lim: request.limit,
          types: request.types,
          patients: request.patients,
        })),
      ),
    ],
  );
  const first = rows[0]!;
  const pages: FeedPage[] = requests.map(() => ({
    origin: first.origin,
    horizon: BigInt(first.horizon ?? 0),
    items: [],
    full: false,
  }));
  for (const row of rows) {
    if (row.seq === null) continue;
    // The projector validated every envelope it wrote; one that fails here is a bug, not data to skip.
    pages[row.i]!.items.push({
      seq: BigInt(row.seq),
      origin: first.origin,
      envelope: parseEnvelope(row.envelope),
    });
  }
  for (const [i, page] of pages.entries()) page.full = page.items.length === requests[i]!.limit;
  return pages;
}

/** Where the feed ends now, and its origin: the start of a subscription that gave no cursor. */
export async function feedEnd(db: Database): Promise<{ origin: string; seq: bigint }> {
  const [row] = await db.query<{ origin: string; last: string | null }>(
    `WITH origin AS (${feedOriginSql(db)})
     SELECT o.origin, (SELECT max(seq) FROM ${db.projection}.event_feed)::text AS last FROM origin o`,
  );
  return { origin: row!.origin, seq: BigInt(row!.last ?? 0) };
}
