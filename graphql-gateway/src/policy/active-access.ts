/**
 * THE definition of "an active grant" and "an open emergency access", in its two forms side by side: the
 * predicate the rules decide with, and the SQL condition the lists use (a doctor's patients, a patient's
 * current grants). Change both together: active-access.test.ts proves in PostgreSQL that they agree.
 */

/** A patient -> viewer grant (the current row of `grants`), active or not. */
export type GrantFacts = { scopes: number; grantedAt: Date; expiresAt: Date | null; revokedAt: Date | null };

/**
 * A patient's emergency access for a doctor (open or past). `doctorVerified`: the doctor is verified by a
 * registrar NOW (the contract's `hasAccess` requires it for break-glass).
 */
export type EmergencyFacts = {
  openedAt: Date;
  expiresAt: Date;
  closedAt: Date | null;
  doctorVerified: boolean;
};

/** Not revoked and not expired: expiry needs no event, so it is judged against `now`. */
export function isActiveGrant(grant: GrantFacts | null, now: Date): grant is GrantFacts {
  return !!grant && grant.revokedAt === null && (grant.expiresAt === null || grant.expiresAt > now);
}

/** Not closed, not expired, and the doctor verified now (withdrawing the verification ends break-glass). */
export function isOpenEmergency(emergency: EmergencyFacts | null, now: Date): emergency is EmergencyFacts {
  return !!emergency && emergency.closedAt === null && emergency.expiresAt > now && emergency.doctorVerified;
}

/**
 * `isActiveGrant` over `grants` row `alias`. `now`: a SQL expression for the time to judge at (`now()`, or
 * a parameter such as `$2::timestamptz`).
 */
export const activeGrantSql = (alias: string, now = "now()") =>
  `(${alias}.revoked_at IS NULL AND (${alias}.expires_at IS NULL OR ${alias}.expires_at > ${now}))`;

/** `isOpenEmergency` over `emergency_access` row `alias`; `schema`: the projection schema (its `doctors`). */
export const openEmergencySql = (alias: string, schema: string, now = "now()") =>
  `(${alias}.closed_at IS NULL AND ${alias}.expires_at > ${now}
    AND EXISTS (SELECT 1 FROM ${schema}.doctors vd WHERE vd.address = ${alias}.doctor AND vd.verified))`;
