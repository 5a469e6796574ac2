import { createHash } from "node:crypto";
import type { AuditChannel, AuditEntry } from "./audit-log.ts";

/** One access of a read set: a patient, the kinds read in order, and the rule and grant that allowed them. */
export type ReadSetAccess = {
  patient: string;
  what: AuditEntry["what"][];
  rule: AuditEntry["rule"];
  grantScopes: number | null;
  grantGrantedAt: Date | null;
  accessExpiresAt: Date | null;
};

/**
 * The reads one answer made (its audit entries without the request's id and time), stored once and named
 * by the SHA-256 of their canonical form: a request served that answer again is audited as one row naming
 * the set (gateway migration 006). Same reads, same digest, whichever process or answer version made them.
 */
export type ReadSet = {
  digest: Buffer;
  viewer: string;
  channel: AuditChannel;
  /** In the order the entries were recorded; the entries are these accesses' kinds, in order. */
  accesses: readonly ReadSetAccess[];
  /** The number of entries (kinds over all accesses). */
  entries: number;
};

/**
 * The most entries one set holds: a served request's entries take ids id .. id + 4095 (its row's id is a
 * multiple of 4096, migration 006). A larger answer's reads are recorded entry by entry.
 */
export const maxReadSetEntries = 4096;

/**
 * The read set of an answer's entries, or undefined when they do not make one: none, more than
 * `maxReadSetEntries`, or not all by one viewer on one channel.
 */
export function readSetOf(entries: readonly AuditEntry[]): ReadSet | undefined {
  const first = entries[0];
  if (!first || entries.length > maxReadSetEntries) return undefined;
  const accesses: ReadSetAccess[] = [];
  // An access per patient, rule and grant, in the order first read: as the entries would be stored.
  const byKey = new Map<string, ReadSetAccess>();
  for (const entry of entries) {
    if (entry.viewer !== first.viewer || entry.channel !== first.channel) return undefined;
    const key = JSON.stringify([
      entry.patient,
      entry.rule,
      entry.grantScopes,
      entry.grantGrantedAt?.getTime() ?? null,
      entry.accessExpiresAt?.getTime() ?? null,
    ]);
    let access = byKey.get(key);
    if (!access) {
      access = {
        patient: entry.patient,
        what: [],
        rule: entry.rule,
        grantScopes: entry.grantScopes,
        grantGrantedAt: entry.grantGrantedAt,
        accessExpiresAt: entry.accessExpiresAt,
      };
      byKey.set(key, access);
      accesses.push(access);
    }
    access.what.push(entry.what);
  }
  const canonical = JSON.stringify([
    first.viewer,
    first.channel,
    accesses.map((access) => [
      access.patient,
      access.what,
      access.rule,
      access.grantScopes,
      access.grantGrantedAt?.getTime() ?? null,
      access.accessExpiresAt?.getTime() ?? null,
    ]),
  ]);
  return {
    digest: createHash("sha256").update(canonical).digest(),
    viewer: first.viewer,
    channel: first.channel,
    accesses,
    entries: entries.length,
  };
}
