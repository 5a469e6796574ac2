import type { Database } from "../database/pool.ts";

/** One entry of a patient's access log: a read of one kind of their data, by whom, under which rule. */
export type AccessLogEntry = {
  /** The entry's id (decimal text): unique, and larger for entries stored later. */
  id: string;
  viewer: string;
  patient: string;
  what: string;
  rule: string;
  grantScopes: number | null;
  grantGrantedAt: Date | null;
  accessExpiresAt: Date | null;
  channel: string;
  requestId: string;
  readAt: Date;
};

/**
 * A patient's access log, newest first: at most `limit` entries with ids below `before` (a cursor), or the
 * newest. The entries are stored one row per access, their kinds in order (gateway migration 005); the rows
 * are taken newest first through the patient's index, and only then spread into entries, so a page costs
 * `limit` rows at most however long the log is (the `audit_log` view gives the same entries, unordered).
 */
export async function readAccessLog(
  db: Database,
  patient: string,
  page: { before: string | number | null; limit: number },
): Promise<AccessLogEntry[]> {
  return db.query<AccessLogEntry>(
    `SELECT (a.id + k.n - 1)::text AS id, a.viewer, a.patient, k.what, a.rule, a.grant_scopes AS "grantScopes",
            a.grant_granted_at AS "grantGrantedAt", a.access_expires_at AS "accessExpiresAt", a.channel,
            a.request_id AS "requestId", a.read_at AS "readAt"
       FROM (SELECT * FROM ${db.gateway}.audit_access
              WHERE patient = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
              ORDER BY id DESC LIMIT $3) a
      CROSS JOIN LATERAL unnest(a.what) WITH ORDINALITY AS k(what, n)
      WHERE $2::bigint IS NULL OR a.id + k.n - 1 < $2::bigint
      ORDER BY a.id + k.n - 1 DESC LIMIT $3`,
    [patient, page.before, page.limit],
  );
}
