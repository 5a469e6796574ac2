import { describe, expect, test } from "vitest";
import { auditAddresses, auditEntry } from "../testing/audit-entry.ts";
import type { AuditEntry } from "./audit-log.ts";
import { maxReadSetEntries, readSetOf } from "./read-set.ts";

const { patient, other, doctor } = auditAddresses;
const entry = (extra: Partial<AuditEntry> = {}) => auditEntry("r1", extra);

describe("readSetOf", () => {
  test("default: an access per patient, rule and grant, in the order first read, with its kinds in order", () => {
    const set = readSetOf([
      entry({ what: "profile" }),
      entry({ what: "profile", patient: other }),
      entry({ what: "vitals" }),
      entry({ what: "records", patient: other, rule: "emergency", grantScopes: null, grantGrantedAt: null }),
    ]);
    expect(set).toMatchObject({ viewer: doctor, channel: "query", entries: 4 });
    expect(set?.accesses.map((access) => [access.patient, access.rule, access.what])).toEqual([
      [patient, "grant", ["profile", "vitals"]],
      [other, "grant", ["profile"]],
      [other, "emergency", ["records"]],
    ]);
    expect(set?.digest.length).toBe(32);
  });

  test("behavior: the same reads make the same digest whatever the request and time; other reads another", () => {
    const reads = (extra: Partial<AuditEntry>) => [entry(extra), entry({ ...extra, what: "vitals" })];
    const first = readSetOf(reads({ requestId: "r1", readAt: new Date(1) }));
    const again = readSetOf(reads({ requestId: "r2", readAt: new Date(2) }));
    expect(again?.digest.equals(first!.digest)).toBe(true);
    for (const changed of [
      { grantScopes: 7 },
      { grantGrantedAt: new Date(1_764_500_000_001) },
      { accessExpiresAt: new Date(1_764_600_000_000) },
      { patient: other },
      { viewer: other },
    ]) {
      expect(readSetOf(reads(changed))?.digest.equals(first!.digest), JSON.stringify(changed)).toBe(false);
    }
    const reordered = readSetOf([entry({ what: "vitals" }), entry()]);
    expect(reordered?.digest.equals(first!.digest)).toBe(false);
  });

  test("behavior: no set for no entries, mixed viewers or channels, or more entries than a row's ids", () => {
    expect(readSetOf([])).toBeUndefined();
    expect(readSetOf([entry(), entry({ viewer: other })])).toBeUndefined();
    expect(readSetOf([entry(), entry({ channel: "subscription" })])).toBeUndefined();
    const many = Array.from({ length: maxReadSetEntries + 1 }, () => entry());
    expect(readSetOf(many.slice(1))?.entries).toBe(maxReadSetEntries);
    expect(readSetOf(many)).toBeUndefined();
  });
});
