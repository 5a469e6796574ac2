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

/**
 * Up to `limit` events after `after`, in seq order, of `types`, about `patients` (all when null), narrowed
 * to the patients `viewer` could possibly see: itself, those whose grant history names it (grants and
 * emergency access, past or present) and those whose alert recipients include it. That narrowing only
 * saves scanning: it is a superset of what the policy can allow, and the policy decides every event.
 */
export async function readFeedPage(
  db: Database,
  options: {
    viewer: string;
    after: bigint;
    limit: number;
    types: readonly EventName[];
    patients: readonly string[] | null;
  },
): Promise<FeedPage> {
  const p = db.projection;
  const rows = await db.query<{
    origin: string;
    horizon: string | null;
    seq: string | null;
    envelope: unknown;
  }>(
    `WITH origin AS (${feedOriginSql(db)}),
          candidates AS (
            SELECT $1::text AS patient
            UNION SELECT patient FROM ${p}.grant_history WHERE grantee = $1
            UNION SELECT patient FROM ${p}.alert_recipients WHERE recipients @> ARRAY[$1::text])
     SELECT o.origin, (SELECT max(seq) FROM ${p}.event_feed)::text AS horizon, f.seq::text AS seq, f.envelope
       FROM origin o
       LEFT JOIN LATERAL (
         SELECT seq, envelope FROM ${p}.event_feed
          WHERE seq > $2 AND type = ANY($3::text[])
            AND patient IN (SELECT patient FROM candidates)
            AND ($4::text[] IS NULL OR patient = ANY($4::text[]))
          ORDER BY seq LIMIT $5) f ON true
      ORDER BY f.seq`,
    [options.viewer, options.after.toString(), options.types, options.patients, options.limit],
  );
  const first = rows[0]!;
  const items: FeedItem[] = [];
  for (const row of rows) {
    if (row.seq === null) continue;
    // The projector validated every envelope it wrote; one that fails here is a bug, not data to skip.
    items.push({ seq: BigInt(row.seq), origin: first.origin, envelope: parseEnvelope(row.envelope) });
  }
  return {
    origin: first.origin,
    horizon: BigInt(first.horizon ?? 0),
    items,
    full: items.length === options.limit,
  };
}

/** Where the feed ends now, and its origin: the start of a subscription that gave no cursor. */
export async function feedEnd(db: Database): Promise<{ origin: string; seq: bigint }> {
  const [row] = await db.query<{ origin: string; last: string | null }>(
    `WITH origin AS (${feedOriginSql(db)})
     SELECT o.origin, (SELECT max(seq) FROM ${db.projection}.event_feed)::text AS last FROM origin o`,
  );
  return { origin: row!.origin, seq: BigInt(row!.last ?? 0) };
}
