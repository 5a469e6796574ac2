import type { Viewer } from "../auth/viewer.ts";
import { type EmergencyFacts, type GrantFacts, isActiveGrant, isOpenEmergency } from "./active-access.ts";

/** Access scopes, a bit mask (CareChainTypes.SCOPE_*). */
export const Scope = { READ_RECORDS: 1, WRITE_RECORDS: 2, READ_VITALS: 4 } as const;

/** What of a patient's data is being read. */
export type ReadKind = "profile" | "records" | "vitals" | "alerts" | "grants" | "accessLog";

/** What the projections say about one viewer and one patient, loaded fresh for every request. */
export type AccessFacts = {
  /** The patient -> viewer grant, or null; the emergency access, or null (see active-access.ts). */
  grant: GrantFacts | null;
  emergency: EmergencyFacts | null;
  /** The viewer is in the patient's CURRENT list of alert recipients (a removed recipient is not). */
  alertRecipient: boolean;
};

export const noFacts: AccessFacts = { grant: null, emergency: null, alertRecipient: false };

/** Why a read is allowed: what the audit log records. */
export type AccessRule =
  | { kind: "self" }
  | { kind: "grant"; scopes: number; grantedAt: Date; expiresAt: Date | null }
  | { kind: "emergency"; openedAt: Date; expiresAt: Date }
  | { kind: "alert-recipient" }
  | { kind: "party" };

export type Allowed = {
  allowed: true;
  rule: AccessRule;
  /** Alerts only: the viewer may see the alerts that name it as a recipient, no others. */
  recipientOnly: boolean;
};
export type Denied = { allowed: false };
export type Decision = Allowed | Denied;

const denied: Denied = { allowed: false };

/**
 * THE rule: may `viewer` read `what` of `patient`, given the facts? Pure, so that queries and subscriptions
 * decide the same way and the table in the README can be tested against it.
 *
 * | what            | patient | grant                   | emergency | alert recipient        |
 * |-----------------|---------|-------------------------|-----------|------------------------|
 * | profile         | yes     | any scope               | yes       | yes                    |
 * | records         | yes     | READ_RECORDS (1)        | yes       | no                     |
 * | vitals          | yes     | READ_VITALS (4)         | yes       | no                     |
 * | alerts          | yes     | READ_VITALS (4)         | yes       | the alerts naming them |
 * | grants          | yes     | no                      | no        | no                     |
 * | accessLog       | yes     | no                      | no        | no                     |
 *
 * A grant counts while it is not revoked and not expired; an emergency access while it is not closed, not
 * expired and the doctor is verified now (as the contract's `hasAccess`: a hospital withdrawing the
 * verification ends break-glass at once); an alert recipient while the patient's current list names it.
 * Anonymous viewers and everyone else are denied.
 */
export function canRead(
  viewer: Viewer,
  patient: string,
  what: ReadKind,
  facts: AccessFacts,
  now: Date = new Date(),
): Decision {
  if (viewer.kind !== "account") return denied;
  if (viewer.address === patient.toLowerCase())
    return { allowed: true, rule: { kind: "self" }, recipientOnly: false };
  if (what === "grants" || what === "accessLog") return denied;

  const grant = isActiveGrant(facts.grant, now) ? facts.grant : null;
  const emergency = isOpenEmergency(facts.emergency, now) ? facts.emergency : null;
  const needed = what === "records" ? Scope.READ_RECORDS : what === "profile" ? 0 : Scope.READ_VITALS;

  if (grant && (needed === 0 ? grant.scopes !== 0 : (grant.scopes & needed) === needed)) {
    return {
      allowed: true,
      rule: { kind: "grant", scopes: grant.scopes, grantedAt: grant.grantedAt, expiresAt: grant.expiresAt },
      recipientOnly: false,
    };
  }
  if (emergency) {
    return {
      allowed: true,
      rule: { kind: "emergency", openedAt: emergency.openedAt, expiresAt: emergency.expiresAt },
      recipientOnly: false,
    };
  }
  if ((what === "alerts" || what === "profile") && facts.alertRecipient) {
    return { allowed: true, rule: { kind: "alert-recipient" }, recipientOnly: what === "alerts" };
  }
  return denied;
}

/**
 * One alert (a query row or a live event): readable by whoever may read the patient's alerts, and by the
 * recipients it names while they are still recipients (a recipient the patient removed sees none of them).
 */
export function canReadAlert(
  viewer: Viewer,
  alert: { patient: string; recipients: readonly string[] },
  facts: AccessFacts,
  now: Date = new Date(),
): Decision {
  if (viewer.kind !== "account") return denied;
  const decision = canRead(viewer, alert.patient, "alerts", facts, now);
  if (decision.allowed && !decision.recipientOnly) return decision;
  if (
    facts.alertRecipient &&
    alert.recipients.some((recipient) => recipient.toLowerCase() === viewer.address)
  ) {
    return { allowed: true, rule: { kind: "alert-recipient" }, recipientOnly: true };
  }
  return denied;
}

/**
 * An event about an access (a grant given, changed or revoked; an emergency access opened): the patient's,
 * and the party it names (the grantee, the doctor) learns of its own access, which tells it nothing of the
 * patient's data. Decided on the event alone: a revoked grantee is told of its revocation.
 */
export function canReadAccessEvent(viewer: Viewer, event: { patient: string; party: string }): Decision {
  if (viewer.kind !== "account") return denied;
  if (viewer.address === event.patient.toLowerCase())
    return { allowed: true, rule: { kind: "self" }, recipientOnly: false };
  if (viewer.address === event.party.toLowerCase())
    return { allowed: true, rule: { kind: "party" }, recipientOnly: false };
  return denied;
}

/** A doctor's or organization's own lists (its patients, its alerts, its counts): only itself. */
export function canReadOwn(viewer: Viewer, account: string): boolean {
  return viewer.kind === "account" && viewer.address === account.toLowerCase();
}

/** The message of every denial: the same whether the patient is unknown or access is missing. */
export function denialMessage(what: ReadKind): string {
  return `Not allowed to read this patient's ${what === "accessLog" ? "access log" : what}.`;
}

/**
 * May `viewer` store a document filed under `owner` (the documents route)? Its own profile document, for
 * any registered account: only the document's hash goes on chain as its profileHash, and doctors and
 * organizations hold no records, so the write rule alone would refuse them. Anything else under `owner`
 * needs the right to write for that patient (canWrite).
 */
export function canStoreDocument(
  viewer: Viewer,
  owner: string,
  facts: AccessFacts,
  now: Date = new Date(),
): Decision {
  if (viewer.kind === "account" && viewer.address === owner.toLowerCase() && viewer.role !== "none")
    return { allowed: true, rule: { kind: "self" }, recipientOnly: false };
  return canWrite(viewer, owner, facts, now);
}

/**
 * May `viewer` write for `patient` (add a record, upload a document, share a document's key as its
 * author)? The contract's rule (ConsentManager.hasAccess with WRITE_RECORDS, checked by RecordRegistry on
 * every write): the patient itself (registered as a patient), or an active grant holding WRITE_RECORDS (2),
 * whatever the grantee's role. Emergency access covers reads only (EMERGENCY_SCOPES), and alert recipients
 * write nothing.
 */
export function canWrite(
  viewer: Viewer,
  patient: string,
  facts: AccessFacts,
  now: Date = new Date(),
): Decision {
  if (viewer.kind !== "account") return denied;
  if (viewer.address === patient.toLowerCase())
    return viewer.role === "patient"
      ? { allowed: true, rule: { kind: "self" }, recipientOnly: false }
      : denied;
  const grant = isActiveGrant(facts.grant, now) ? facts.grant : null;
  if (grant && (grant.scopes & Scope.WRITE_RECORDS) === Scope.WRITE_RECORDS) {
    return {
      allowed: true,
      rule: { kind: "grant", scopes: grant.scopes, grantedAt: grant.grantedAt, expiresAt: grant.expiresAt },
      recipientOnly: false,
    };
  }
  return denied;
}
