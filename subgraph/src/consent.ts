// ConsentManager -> Grant (current state), EmergencyAccess (current state), GrantEvent (history).
// Mirrors the projector's grants / emergency_access / grant_history tables. Expiry: see README.md.
import { Bytes, ethereum, log } from "@graphprotocol/graph-ts";
import {
  AccessChanged,
  AccessGranted,
  AccessRevoked,
  EmergencyAccessClosed,
  EmergencyAccessOpened,
} from "../generated/ConsentManager/ConsentManager";
import { EmergencyAccess, Grant, GrantEvent } from "../generated/schema";
import { eventId, expiryOrNull, isGrantActive, pairId } from "./helpers";

/** A new grant, or the existing row of this patient and grantee (re-granted after revocation or expiry). */
function loadOrCreateGrant(patient: Bytes, grantee: Bytes): Grant {
  const id = pairId(patient, grantee);
  let grant = Grant.load(id);
  if (grant === null) {
    grant = new Grant(id);
    grant.patient = patient;
    grant.grantee = grantee;
  }
  return grant;
}

function newGrantEvent(event: ethereum.Event, patient: Bytes, grantee: Bytes, action: string): GrantEvent {
  const entry = new GrantEvent(eventId(event));
  entry.patient = patient;
  entry.grantee = grantee;
  entry.action = action;
  entry.blockNumber = event.block.number;
  entry.blockTime = event.block.timestamp;
  entry.logIndex = event.logIndex;
  entry.transactionHash = event.transaction.hash;
  return entry;
}

/** A new grant, or a re-grant after revocation or expiry: the row is reset, like the projector's upsert. */
export function handleAccessGranted(event: AccessGranted): void {
  const now = event.block.timestamp;
  const grant = loadOrCreateGrant(event.params.patient, event.params.grantee);
  grant.scopes = event.params.scopes;
  grant.expiresAt = expiryOrNull(event.params.expiresAt);
  grant.grantedAt = now;
  grant.updatedAt = now;
  grant.revokedAt = null;
  grant.revoked = false;
  grant.isActive = isGrantActive(false, grant.expiresAt, now);
  grant.save();

  const entry = newGrantEvent(event, event.params.patient, event.params.grantee, "granted");
  entry.grant = grant.id;
  entry.scopes = event.params.scopes;
  entry.expiresAt = expiryOrNull(event.params.expiresAt);
  entry.save();
}

/** Full new state of an active grant: scopes and expiry replaced (no grant: history only, like the projector). */
export function handleAccessChanged(event: AccessChanged): void {
  const now = event.block.timestamp;
  const grant = Grant.load(pairId(event.params.patient, event.params.grantee));
  if (grant === null) {
    log.warning("AccessChanged without a grant: {} -> {}", [
      event.params.patient.toHexString(),
      event.params.grantee.toHexString(),
    ]);
  } else {
    grant.scopes = event.params.scopes;
    grant.expiresAt = expiryOrNull(event.params.expiresAt);
    grant.updatedAt = now;
    grant.isActive = isGrantActive(grant.revoked, grant.expiresAt, now);
    grant.save();
  }

  const entry = newGrantEvent(event, event.params.patient, event.params.grantee, "changed");
  if (grant !== null) entry.grant = grant.id;
  entry.scopes = event.params.scopes;
  entry.expiresAt = expiryOrNull(event.params.expiresAt);
  entry.save();
}

/** Revocation takes effect in the same block; scopes and expiry are kept for reference. */
export function handleAccessRevoked(event: AccessRevoked): void {
  const now = event.block.timestamp;
  const grant = Grant.load(pairId(event.params.patient, event.params.grantee));
  if (grant === null) {
    log.warning("AccessRevoked without a grant: {} -> {}", [
      event.params.patient.toHexString(),
      event.params.grantee.toHexString(),
    ]);
  } else {
    grant.revoked = true;
    grant.revokedAt = now;
    grant.updatedAt = now;
    grant.isActive = false;
    grant.save();
  }

  const entry = newGrantEvent(event, event.params.patient, event.params.grantee, "revoked");
  if (grant !== null) entry.grant = grant.id;
  entry.save();
}

/** Opening again while open replaces the expiry, the reason and the opening time. */
export function handleEmergencyAccessOpened(event: EmergencyAccessOpened): void {
  const now = event.block.timestamp;
  const id = pairId(event.params.patient, event.params.doctor);
  let access = EmergencyAccess.load(id);
  if (access === null) {
    access = new EmergencyAccess(id);
    access.patient = event.params.patient;
    access.doctor = event.params.doctor;
  }
  access.expiresAt = event.params.expiresAt;
  access.reasonHash = event.params.reasonHash;
  access.openedAt = now;
  access.closedAt = null;
  access.isOpen = now.lt(event.params.expiresAt);
  access.save();

  const entry = newGrantEvent(event, event.params.patient, event.params.doctor, "emergency_opened");
  entry.emergencyAccess = id;
  entry.expiresAt = event.params.expiresAt;
  entry.reasonHash = event.params.reasonHash;
  entry.save();
}

export function handleEmergencyAccessClosed(event: EmergencyAccessClosed): void {
  const now = event.block.timestamp;
  const id = pairId(event.params.patient, event.params.doctor);
  const access = EmergencyAccess.load(id);
  if (access === null) {
    log.warning("EmergencyAccessClosed without an opening: {} -> {}", [
      event.params.patient.toHexString(),
      event.params.doctor.toHexString(),
    ]);
  } else {
    access.closedAt = now;
    access.isOpen = false;
    access.save();
  }

  const entry = newGrantEvent(event, event.params.patient, event.params.doctor, "emergency_closed");
  if (access !== null) entry.emergencyAccess = id;
  entry.save();
}
