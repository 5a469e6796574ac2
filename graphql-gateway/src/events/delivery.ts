import { createHash } from "node:crypto";
import { type EventEnvelope, isDerived } from "@carechain/common";
import type { Allowed, Decision, LogPosition, ReadKind, RequestPolicy } from "../policy/index.ts";

/**
 * A policy per decision: `policyAt()` as of now, `policyAt(position)` as of that place in the log. Fresh
 * each call (fresh facts), so that each delivered event is decided, and audited, on its own.
 */
export type PolicyAt = (asOf?: LogPosition) => RequestPolicy;

/**
 * THE delivery decision, for every channel that hands events out (the alertRaised and recordAdded
 * subscriptions, the events query and subscription, and the webhooks): may the viewer receive
 * `event`? Only when the policy allows it both as of the event's place in the log (a revocation before it
 * stops it; a grant after it does not reach back) and now (a revocation since then stops it too). Allowed
 * means audited: resolves true only once the patient's access log holds the read; a failed audit write
 * rejects (AuditUnavailableError), and the event must then be withheld. Events of other types: false.
 *
 * The feed hands over events only once the projector has committed them and everything before them, so
 * the grant history the as-of decision reads is complete up to the event.
 */
export async function admitEvent(policyAt: PolicyAt, event: EventEnvelope): Promise<boolean> {
  const decided = await decide(policyAt, event);
  if (decided === null) return false;
  decided.now.recordRead(decided.patient, decided.what, decided.decision);
  await decided.now.settled();
  return true;
}

/**
 * The request id an event handed out is audited under: the delivery's own (a request, a subscription) and
 * the event's place, `<block>.<log index>` (`r` for a retraction), so that the access log names each
 * delivered event. A fact that time makes (GRANT_EXPIRED, ALERT_FINAL) has no log index of its own, and one
 * block may make several: a short digest of its id stands in for it. Within the audit log's 120 characters.
 */
export function deliveryRequestId(prefix: string, event: EventEnvelope): string {
  const place = isDerived(event.type)
    ? `${event.blockNumber}.d${createHash("sha256").update(event.id).digest("hex").slice(0, 12)}`
    : `${event.blockNumber}.${event.logIndex}`;
  return `${prefix.slice(0, 80)}:${place}${event.retracted ? "r" : ""}`;
}

/**
 * The same decision as admitEvent, for an event admitted (and audited) before: may it still be handed
 * over now? Not audited again: the webhook sender asks before each attempt to send an event the outbox
 * holds, and withholds it when a revocation came in between. Now only: the as-of half was decided when the
 * event was admitted, and the log before the event cannot change without the event being retracted too.
 */
export async function stillAdmitted(policyAt: PolicyAt, event: EventEnvelope): Promise<boolean> {
  return (await decide(policyAt, event, { asOf: false })) !== null;
}

/** Both decisions (as of the event, and now); null unless both allow it. The one switch of every channel. */
async function decide(
  policyAt: PolicyAt,
  event: EventEnvelope,
  options: { asOf: boolean } = { asOf: true },
): Promise<{ now: RequestPolicy; patient: string; what: ReadKind; decision: Allowed } | null> {
  const now = policyAt();
  const position = { blockNumber: event.blockNumber, logIndex: event.logIndex };
  let what: ReadKind;
  let decision: Decision;
  switch (event.type) {
    case "VitalsAlert":
    case "AlertFinal": {
      // An alert's finality is decided exactly as the alert: its recipients, as of the alert's place.
      what = "alerts";
      const alert = event.payload;
      const at =
        event.type === "AlertFinal"
          ? { blockNumber: event.payload.alertBlockNumber, logIndex: event.payload.alertLogIndex }
          : position;
      decision = await now.canReadAlert(alert);
      if (decision.allowed && options.asOf && !(await policyAt(at).canReadAlert(alert)).allowed) return null;
      break;
    }
    case "RecordAdded":
    case "VitalsReported": {
      what = event.type === "RecordAdded" ? "records" : "vitals";
      decision = await now.canRead(event.payload.patient, what);
      if (
        decision.allowed &&
        options.asOf &&
        !(await policyAt(position).canRead(event.payload.patient, what)).allowed
      )
        return null;
      break;
    }
    case "AccessGranted":
    case "AccessChanged":
    case "AccessRevoked":
    case "GrantExpired":
    case "EmergencyAccessOpened": {
      // About an access, told to the patient and to the party it names: no patient data to decide on. An
      // expiry, like a revocation, tells the grantee that its access ended.
      what = "grants";
      const party = "grantee" in event.payload ? event.payload.grantee : event.payload.doctor;
      decision = now.canReadAccessEvent({ patient: event.payload.patient, party });
      break;
    }
    default:
      return null;
  }
  if (!decision.allowed) return null;
  return { now, patient: event.payload.patient, what, decision };
}
