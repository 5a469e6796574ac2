import type { Address } from "viem";
import type { Database } from "../database/pool.ts";
import type { AccessFacts } from "./rules.ts";

type FactsRow = {
  patient: string;
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

/** The current grant and emergency access of viewer $1 (the projections' current rows). */
const currentAccess = (p: string) => `
       LEFT JOIN (SELECT *, true AS present FROM ${p}.grants) g ON g.patient = k.patient AND g.grantee = $1
       LEFT JOIN ${p}.emergency_access e ON e.patient = k.patient AND e.doctor = $1`;

/**
 * The grant and emergency access of viewer $1 as they stood just before position ($3, $4), from
 * `grant_history` (one row per grant or emergency event): the last grant event before it (granted,
 * changed: its terms; revoked), and the last emergency event (opened: its expiry; closed).
 */
const accessAsOf = (p: string) => `
       LEFT JOIN LATERAL (
         SELECT coalesce(h.scopes, 0) AS scopes, h.expires_at,
                CASE WHEN h.action = 'revoked' THEN h.block_time END AS revoked_at,
                coalesce((SELECT s.block_time FROM ${p}.grant_history s
                           WHERE s.patient = k.patient AND s.grantee = $1 AND s.action = 'granted'
                             AND (s.block_number, s.log_index) < ($3::bigint, $4::bigint)
                           ORDER BY s.block_number DESC, s.log_index DESC LIMIT 1), h.block_time) AS granted_at,
                true AS present
           FROM ${p}.grant_history h
          WHERE h.patient = k.patient AND h.grantee = $1 AND h.action IN ('granted', 'changed', 'revoked')
            AND (h.block_number, h.log_index) < ($3::bigint, $4::bigint)
          ORDER BY h.block_number DESC, h.log_index DESC LIMIT 1) g ON true
       LEFT JOIN LATERAL (
         SELECT h.block_time AS opened_at,
                CASE WHEN h.action = 'emergency_opened' THEN h.expires_at ELSE h.block_time END AS expires_at,
                CASE WHEN h.action = 'emergency_closed' THEN h.block_time END AS closed_at
           FROM ${p}.grant_history h
          WHERE h.patient = k.patient AND h.grantee = $1 AND h.action IN ('emergency_opened', 'emergency_closed')
            AND (h.block_number, h.log_index) < ($3::bigint, $4::bigint)
          ORDER BY h.block_number DESC, h.log_index DESC LIMIT 1) e ON true`;

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
  const p = db.projection;
  const rows = await db.query<FactsRow>(
    `SELECT k.patient,
            g.scopes, g.granted_at, g.expires_at AS grant_expires_at, g.revoked_at, g.present IS NOT NULL AS has_grant,
            e.opened_at, e.expires_at AS emergency_expires_at, e.closed_at,
            coalesce(d.verified, false) AS doctor_verified,
            EXISTS (SELECT 1 FROM ${p}.alert_recipients ar
                     WHERE ar.patient = k.patient AND ar.recipients @> ARRAY[$1::text]) AS alert_recipient
       FROM unnest($2::text[]) AS k(patient)
       ${asOf ? accessAsOf(p) : currentAccess(p)}
       LEFT JOIN ${p}.doctors d ON d.address = $1`,
    asOf
      ? [viewer, [...new Set(patients)], asOf.blockNumber, asOf.logIndex]
      : [viewer, [...new Set(patients)]],
  );
  const facts = new Map<string, AccessFacts>();
  for (const row of rows) {
    facts.set(row.patient, {
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
    });
  }
  return facts;
}
