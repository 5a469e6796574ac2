import { describe, expect, test } from "vitest";
import type { Viewer } from "../auth/viewer.ts";
import {
  type AccessFacts,
  canRead,
  canReadAccessEvent,
  canReadAlert,
  canReadOwn,
  canStoreDocument,
  noFacts,
  type ReadKind,
} from "./rules.ts";

const patient = "0x00000000000000000000000000000000000000a1";
const other = "0x00000000000000000000000000000000000000b2";
const now = new Date("2025-01-01T00:00:00Z");
const past = new Date("2024-12-31T00:00:00Z");
const future = new Date("2025-01-02T00:00:00Z");

const account = (address: string, role: Extract<Viewer, { kind: "account" }>["role"] = "doctor"): Viewer => ({
  kind: "account",
  address: address as `0x${string}`,
  role,
  organizationKind: null,
  verified: true,
});
const viewer = account(other);
const grant = (scopes: number, extra: Partial<NonNullable<AccessFacts["grant"]>> = {}): AccessFacts => ({
  ...noFacts,
  grant: { scopes, grantedAt: past, expiresAt: null, revokedAt: null, ...extra },
});
const kinds: ReadKind[] = ["profile", "records", "vitals", "alerts", "grants", "accessLog"];
const allowedKinds = (facts: AccessFacts, who: Viewer = viewer) =>
  kinds.filter((what) => canRead(who, patient, what, facts, now).allowed);

describe("canRead", () => {
  test("default", () => {
    expect(allowedKinds(noFacts, account(patient))).toEqual(kinds);
    expect(canRead(account(patient), patient, "records", noFacts, now)).toEqual({
      allowed: true,
      rule: { kind: "self" },
      recipientOnly: false,
    });
  });

  test("behavior: a grant allows what its scopes say, never grants or the access log", () => {
    expect(allowedKinds(grant(7))).toEqual(["profile", "records", "vitals", "alerts"]);
    expect(allowedKinds(grant(1))).toEqual(["profile", "records"]);
    expect(allowedKinds(grant(4))).toEqual(["profile", "vitals", "alerts"]);
    expect(allowedKinds(grant(2))).toEqual(["profile"]);
    expect(canRead(viewer, patient, "records", grant(5), now)).toEqual({
      allowed: true,
      rule: { kind: "grant", scopes: 5, grantedAt: past, expiresAt: null },
      recipientOnly: false,
    });
  });

  test("behavior: revoked and expired grants allow nothing", () => {
    expect(allowedKinds(grant(7, { revokedAt: past }))).toEqual([]);
    expect(allowedKinds(grant(7, { expiresAt: past }))).toEqual([]);
    expect(allowedKinds(grant(7, { expiresAt: now }))).toEqual([]);
    expect(allowedKinds(grant(7, { expiresAt: future }))).toEqual(["profile", "records", "vitals", "alerts"]);
  });

  test("behavior: open emergency access reads records and vitals", () => {
    const open: AccessFacts = {
      ...noFacts,
      emergency: { openedAt: past, expiresAt: future, closedAt: null, doctorVerified: true },
    };
    expect(allowedKinds(open)).toEqual(["profile", "records", "vitals", "alerts"]);
    expect(canRead(viewer, patient, "vitals", open, now)).toMatchObject({ rule: { kind: "emergency" } });
    expect(
      allowedKinds({
        ...noFacts,
        emergency: { openedAt: past, expiresAt: past, closedAt: null, doctorVerified: true },
      }),
    ).toEqual([]);
    expect(
      allowedKinds({
        ...noFacts,
        emergency: { openedAt: past, expiresAt: future, closedAt: past, doctorVerified: true },
      }),
    ).toEqual([]);
  });

  test("behavior: emergency access needs the doctor verified now, as the contract's hasAccess", () => {
    const unverified: AccessFacts = {
      ...noFacts,
      emergency: { openedAt: past, expiresAt: future, closedAt: null, doctorVerified: false },
    };
    expect(allowedKinds(unverified)).toEqual([]);
    // A grant still counts for a doctor whose verification was withdrawn: only break-glass needs it.
    expect(allowedKinds({ ...grant(1), emergency: unverified.emergency })).toEqual(["profile", "records"]);
  });

  test("behavior: a grant wins over emergency access in the audited rule", () => {
    const both: AccessFacts = {
      ...grant(1),
      emergency: { openedAt: past, expiresAt: future, closedAt: null, doctorVerified: true },
    };
    expect(canRead(viewer, patient, "records", both, now)).toMatchObject({ rule: { kind: "grant" } });
    expect(canRead(viewer, patient, "vitals", both, now)).toMatchObject({ rule: { kind: "emergency" } });
  });

  test("behavior: an alert recipient sees the profile and the alerts naming it", () => {
    const recipient: AccessFacts = { ...noFacts, alertRecipient: true };
    expect(allowedKinds(recipient)).toEqual(["profile", "alerts"]);
    expect(canRead(viewer, patient, "alerts", recipient, now)).toEqual({
      allowed: true,
      rule: { kind: "alert-recipient" },
      recipientOnly: true,
    });
  });

  test("error: anonymous viewers and strangers are denied", () => {
    expect(allowedKinds(grant(7), { kind: "anonymous" })).toEqual([]);
    expect(allowedKinds(noFacts)).toEqual([]);
  });
});

describe("canReadAlert", () => {
  test("default", () => {
    const alert = { patient, recipients: [other] };
    const recipient: AccessFacts = { ...noFacts, alertRecipient: true };
    expect(canReadAlert(viewer, alert, recipient, now)).toMatchObject({
      allowed: true,
      rule: { kind: "alert-recipient" },
    });
    expect(canReadAlert(viewer, { patient, recipients: [] }, noFacts, now)).toEqual({ allowed: false });
    expect(canReadAlert(viewer, { patient, recipients: [] }, grant(4), now)).toMatchObject({
      rule: { kind: "grant" },
    });
    expect(canReadAlert(account(patient), { patient, recipients: [] }, noFacts, now)).toMatchObject({
      rule: { kind: "self" },
    });
    expect(canReadAlert({ kind: "anonymous" }, alert, recipient, now)).toEqual({ allowed: false });
  });

  test("behavior: a recipient the patient removed sees none of the alerts naming it", () => {
    const alert = { patient, recipients: [other] };
    expect(canReadAlert(viewer, alert, noFacts, now)).toEqual({ allowed: false });
    expect(canRead(viewer, patient, "profile", noFacts, now)).toEqual({ allowed: false });
  });
});

describe("canReadOwn", () => {
  test("default", () => {
    expect(canReadOwn(viewer, other)).toBe(true);
    expect(canReadOwn(viewer, patient)).toBe(false);
    expect(canReadOwn({ kind: "anonymous" }, patient)).toBe(false);
  });
});

describe("canStoreDocument", () => {
  test("default: any registered account stores its own (profile) document", () => {
    for (const role of ["patient", "doctor", "organization"] as const)
      expect(canStoreDocument(account(other, role), other, noFacts, now)).toMatchObject({
        allowed: true,
        rule: { kind: "self" },
      });
  });

  test("behavior: under a patient, the write rule decides (WRITE_RECORDS)", () => {
    expect(canStoreDocument(viewer, patient, grant(2), now).allowed).toBe(true);
    expect(canStoreDocument(viewer, patient, grant(1 | 4), now).allowed).toBe(false);
  });

  test("error: an unregistered account, a stranger and anonymous viewers store nothing", () => {
    expect(canStoreDocument(account(other, "none"), other, noFacts, now).allowed).toBe(false);
    expect(canStoreDocument(viewer, patient, noFacts, now).allowed).toBe(false);
    expect(canStoreDocument({ kind: "anonymous" }, other, noFacts, now).allowed).toBe(false);
  });
});

describe("canReadAccessEvent", () => {
  test("default: the patient and the party the event names, no one else", () => {
    const event = { patient, party: other };
    expect(canReadAccessEvent(account(patient), event)).toMatchObject({
      allowed: true,
      rule: { kind: "self" },
    });
    expect(canReadAccessEvent(viewer, event)).toMatchObject({ allowed: true, rule: { kind: "party" } });
    const third = account("0x00000000000000000000000000000000000000c3");
    expect(canReadAccessEvent(third, event)).toEqual({ allowed: false });
    expect(canReadAccessEvent({ kind: "anonymous" } as Viewer, event)).toEqual({ allowed: false });
  });
});
