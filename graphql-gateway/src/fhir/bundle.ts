import { randomUUID } from "node:crypto";
import type { Bundle, BundleEntry, BundleLink, OperationOutcome, Resource } from "@medplum/fhirtypes";

/** What a search (or `$everything`) found: its matches, the resources they refer to, what was cut. */
export type SearchResult = {
  matches: Resource[];
  /** Resources the matches refer to (practitioners, organizations, devices), each once. */
  included: Resource[];
  /** Set when a list was cut at its limit: a warning entry says so. */
  truncated?: string[];
};

/**
 * A `searchset` Bundle (what FHIR answers to a search and to `Patient/$everything`): every entry with an
 * absolute `fullUrl` under `base` and its search mode, `total` the number of matches returned, `self` the
 * request. A cut list gets an OperationOutcome entry (mode `outcome`) naming it, so a client knows it did
 * not get everything.
 */
export function searchsetBundle(base: string, self: string, result: SearchResult, now = new Date()): Bundle {
  const entry = (resource: Resource, mode: "match" | "include"): BundleEntry => ({
    fullUrl: `${base}/${resource.resourceType}/${resource.id}`,
    resource,
    search: { mode },
  });
  const seen = new Set<string>();
  const included = result.included.filter((resource) => {
    const key = `${resource.resourceType}/${resource.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const warnings: BundleEntry[] = (result.truncated ?? []).map((what) => {
    const outcome: OperationOutcome = {
      resourceType: "OperationOutcome",
      id: randomUUID(),
      issue: [
        {
          severity: "warning",
          code: "too-costly",
          diagnostics: `Only the newest ${what} are included: the list was cut at its limit.`,
        },
      ],
    };
    return { fullUrl: `urn:uuid:${outcome.id}`, resource: outcome, search: { mode: "outcome" } };
  });
  const link: BundleLink[] = [{ relation: "self", url: self }];
  return {
    resourceType: "Bundle",
    id: randomUUID(),
    meta: { lastUpdated: now.toISOString() },
    type: "searchset",
    timestamp: now.toISOString(),
    total: result.matches.length,
    link,
    entry: [
      ...result.matches.map((resource) => entry(resource, "match")),
      ...included.map((resource) => entry(resource, "include")),
      ...warnings,
    ],
  };
}
