import type { Address } from "viem";
import type { Database } from "../database/pool.ts";
import type { AccessFacts } from "./rules.ts";

type FactsRow = {
  i: string;
  scopes: number | null;
  granted_at: Date | null;
  grant_expires_at: Date | null;
  revoked_at: Date | null;
  has_grant: boolean;
  opened_at: Date | null;
  emergency_expires_at: Date | null;
  closed_at: Date | null;
  doctor_verified: boolean;
  alert_recipient: boolean;
};

/** A place in the chain's log: facts "as of" it count only the events before it. */
export type LogPosition = { blockNumber: number; logIndex: number };

/** The current grant and emergency access of viewer k.viewer (the projections' current rows). */
const currentAccess = (p: string) => `
       LEFT JOIN (SELECT *, true AS present FROM ${p}.grants) g ON g.patient = k.patient AND g.grantee = k.viewer
       LEFT JOIN ${p}.emergency_access e ON e.patient = k.patient AND e.doctor = k.viewer`;

/**
 * The grant and emergency access of viewer k.viewer as they stood just before position (k.block, k.log), from
 * `grant_history` (one row per grant or emergency event): the last grant event before it (granted,
 * changed: its terms; revoked), and the last emergency event (opened: its expiry; closed).
 */
const accessAsOf = (p: string) => `
       LEFT JOIN LATERAL (
         SELECT coalesce(h.scopes, 0) AS scopes, h.expires_at,
                CASE WHEN h.action = 'revoked' THEN h.block_time END AS revoked_at,
                coalesce((SELECT s.block_time FROM ${p}.grant_history s
                           WHERE s.patient = k.patient AND s.grantee = k.viewer AND s.action = 'granted'
                             AND (s.block_number, s.log_index) < (k.block, k.log)
                           ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1), h.block_time) AS granted_at,
                true AS present
           FROM ${p}.grant_history h
          WHERE h.patient = k.patient AND h.grantee = k.viewer AND h.action IN ('granted', 'changed', 'revoked')
            AND (h.block_number, h.log_index) < (k.block, k.log)
          ORDER BY h.block_number DESC, h.log_index DESC LIMIT 1) g ON true
       LEFT JOIN LATERAL (
         SELECT h.block_time AS opened_at,
                CASE WHEN h.action = 'emergency_opened' THEN h.expires_at ELSE h.block_time END AS expires_at,
                CASE WHEN h.action = 'emergency_closed' THEN h.block_time END AS closed_at
           FROM ${p}.grant_history h
          WHERE h.patient = k.patient AND h.grantee = k.viewer AND h.action IN ('emergency_opened', 'emergency_closed')
            AND (h.block_number, h.log_index) < (k.block, k.log)
          ORDER BY h.block_number DESC, h.log_index DESC LIMIT 1) e ON true`;

/** One question for loadAccessFactsBatch: the facts of `viewer` about `patient`, as of `asOf` (or now). */
export type FactsKey = { viewer: Address; patient: Address; asOf?: LogPosition };

/**
 * The facts for one viewer and many patients, in one statement (batched by the per-request loader). With
 * `asOf`, grants and emergency access are as they stood at that place in the log (a live delivery is
 * decided as of its event, whatever the projector applied since); the doctor's verification and the
 * alert recipients are as they are now (the stricter of the two for a delivery happening now).
 */
export async function loadAccessFacts(
  db: Database,
  viewer: Address,
  patients: readonly Address[],
  asOf?: LogPosition,
): Promise<Map<string, AccessFacts>> {
  const unique = [...new Set(patients)];
  const facts = await loadAccessFactsBatch(
    db,
    unique.map((patient) => ({ viewer, patient, asOf })),
  );
  return new Map(unique.map((patient, i) => [patient, facts[i]!]));
}

/**
 * loadAccessFacts for many viewers, patients and places in the log at once (the webhook delivery's
 * decisions of a batch): the facts of each key, in order, in one statement for the keys as of now and one
 * for those as of a place.
 */
export async function loadAccessFactsBatch(db: Database, keys: readonly FactsKey[]): Promise<AccessFacts[]> {
  const p = db.projection;
  const facts = new Array<AccessFacts>(keys.length);
  const load = async (asOf: boolean) => {
    const indexes = keys.flatMap((key, i) => (!!key.asOf === asOf ? [i] : []));
    if (indexes.length === 0) return;
    const rows = await db.query<FactsRow>(
      `SELECT k.i::text AS i,
              g.scopes, g.granted_at, g.expires_at AS grant_expires_at, g.revoked_at, g.present IS NOT NULL AS has_grant,
              e.opened_at, e.expires_at AS emergency_expires_at, e.closed_at,
              coalesce(d.verified, false) AS doctor_verified,
              EXISTS (SELECT 1 FROM ${p}.alert_recipients ar
                       WHERE ar.patient = k.patient AND ar.recipients @> ARRAY[k.viewer]) AS alert_recipient
         FROM unnest($1::int[], $2::text[], $3::text[], $4::bigint[], $5::bigint[]) AS k(i, viewer, patient, block, log)
         ${asOf ? accessAsOf(p) : currentAccess(p)}
         LEFT JOIN ${p}.doctors d ON d.address = k.viewer`,
      [
        indexes,
        indexes.map((i) => keys[i]!.viewer),
        indexes.map((i) => keys[i]!.patient),
        indexes.map((i) => keys[i]!.asOf?.blockNumber ?? null),
        indexes.map((i) => keys[i]!.asOf?.logIndex ?? null),
      ],
    );
    for (const row of rows) facts[Number(row.i)] = toFacts(row);
  };
  await Promise.all([load(false), load(true)]);
  return facts;
}

function toFacts(row: FactsRow): AccessFacts {
  return {
    grant: row.has_grant
      ? {
          scopes: row.scopes!,
          grantedAt: row.granted_at!,
          expiresAt: row.grant_expires_at,
          revokedAt: row.revoked_at,
        }
      : null,
    emergency:
      row.opened_at && row.emergency_expires_at
        ? {
            openedAt: row.opened_at,
            expiresAt: row.emergency_expires_at,
            closedAt: row.closed_at,
            doctorVerified: row.doctor_verified,
          }
        : null,
    alertRecipient: row.alert_recipient,
  };
}
