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
 * newest. Entries are stored one row per access, their kinds in order (gateway migration 005), or, for a
 * request served a kept answer, one row naming the answer's read set (migration 006). Both are taken newest
 * first through indexes (the patient's accesses; the served rows of each set holding the patient) and only
 * then spread into entries, so a page costs `limit` rows per source however long the log is (the
 * `audit_log` view gives the same entries, unordered). Every row taken has an entry of the patient below
 * the cursor (a served row's first one is at its id + the patient's first offset in the set), so `limit`
 * rows per source always hold the page.
 */
export async function readAccessLog(
  db: Database,
  patient: string,
  page: { before: string | number | null; limit: number },
): Promise<AccessLogEntry[]> {
  const g = db.gateway;
  return db.query<AccessLogEntry>(
    `SELECT id::text, viewer, patient, what, rule, grant_scopes AS "grantScopes",
            grant_granted_at AS "grantGrantedAt", access_expires_at AS "accessExpiresAt", channel,
            request_id AS "requestId", read_at AS "readAt"
       FROM (SELECT a.id + k.n - 1 AS id, a.viewer, a.patient, k.what, a.rule, a.grant_scopes,
                    a.grant_granted_at, a.access_expires_at, a.channel, a.request_id, a.read_at
               FROM (SELECT * FROM ${g}.audit_access
                      WHERE patient = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
                      ORDER BY id DESC LIMIT $3) a
              CROSS JOIN LATERAL unnest(a.what) WITH ORDINALITY AS k(what, n)
             UNION ALL
             SELECT s.id + m.first_entry + k.n - 1, r.viewer, m.patient, k.what, m.rule, m.grant_scopes,
                    m.grant_granted_at, m.access_expires_at, r.channel, s.request_id, s.read_at
               FROM (SELECT read_set, min(first_entry) AS first_entry FROM ${g}.audit_read_set_access
                      WHERE patient = $1 GROUP BY read_set) p
              CROSS JOIN LATERAL (SELECT * FROM ${g}.audit_served
                                   WHERE read_set = p.read_set
                                     AND ($2::bigint IS NULL OR id < $2::bigint - p.first_entry)
                                   ORDER BY id DESC LIMIT $3) s
               JOIN ${g}.audit_read_set r ON r.digest = s.read_set
               JOIN ${g}.audit_read_set_access m ON m.read_set = s.read_set AND m.patient = $1
              CROSS JOIN LATERAL unnest(m.what) WITH ORDINALITY AS k(what, n)) e
      WHERE $2::bigint IS NULL OR e.id < $2::bigint
      ORDER BY e.id DESC LIMIT $3`,
    [patient, page.before, page.limit],
  );
}
