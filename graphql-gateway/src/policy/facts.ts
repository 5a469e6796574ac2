import type { Address } from "viem";
import type { Database } from "../database/pool.ts";
import type { AccessFacts } from "./rules.ts";

/**
 * SQL forms of the rules' "active" tests, for lists that must agree with them (a doctor's patients, a
 * patient's current grants). `alias` is the table alias of `grants` / `emergency_access`; `schema` the
 * projection schema (break-glass counts only while the doctor is verified now, see `isOpenEmergency`).
 */
export const activeGrantSql = (alias: string) =>
  `(${alias}.revoked_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > now()))`;
export const openEmergencySql = (alias: string, schema: string) =>
  `(${alias}.closed_at IS NULL AND ${alias}.expires_at > now()
    AND EXISTS (SELECT 1 FROM ${schema}.doctors vd WHERE vd.address = ${alias}.doctor AND vd.verified))`;

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

/** The facts for one viewer and many patients, in one statement (batched by the per-request loader). */
export async function loadAccessFacts(
  db: Database,
  viewer: Address,
  patients: readonly Address[],
): Promise<Map<string, AccessFacts>> {
  const p = db.projection;
  const rows = await db.query<FactsRow>(
    `SELECT k.patient,
            g.scopes, g.granted_at, g.expires_at AS grant_expires_at, g.revoked_at, g.patient IS NOT NULL AS has_grant,
            e.opened_at, e.expires_at AS emergency_expires_at, e.closed_at,
            coalesce(d.verified, false) AS doctor_verified,
            EXISTS (SELECT 1 FROM ${p}.alert_recipients ar
                     WHERE ar.patient = k.patient AND ar.recipients @> ARRAY[$1::text]) AS alert_recipient
       FROM unnest($2::text[]) AS k(patient)
       LEFT JOIN ${p}.grants g ON g.patient = k.patient AND g.grantee = $1
       LEFT JOIN ${p}.emergency_access e ON e.patient = k.patient AND e.doctor = $1
       LEFT JOIN ${p}.doctors d ON d.address = $1`,
    [viewer, [...new Set(patients)]],
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
