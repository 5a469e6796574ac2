import { readFileSync } from "node:fs";
import type { DocumentNode } from "graphql";
import { organizationKinds, type Viewer } from "../auth/viewer.ts";
import { parse } from "../graphql.ts";
import { Scope } from "../policy/index.ts";

/** A subgraph's SDL, read once from the `.graphql` file beside its resolvers. */
export function loadTypeDefs(url: URL): DocumentNode {
  return parse(readFileSync(url, "utf8"));
}

export function scopeNames(mask: number): string[] {
  const names: string[] = [];
  if (mask & Scope.READ_RECORDS) names.push("READ_RECORDS");
  if (mask & Scope.WRITE_RECORDS) names.push("WRITE_RECORDS");
  if (mask & Scope.READ_VITALS) names.push("READ_VITALS");
  return names;
}

export function organizationKindName(kind: number | null | undefined): string | null {
  if (kind === null || kind === undefined) return null;
  return organizationKinds[kind as keyof typeof organizationKinds] ?? null;
}

export function roleName(viewer: Viewer): string {
  return viewer.kind === "anonymous" ? "ANONYMOUS" : viewer.role.toUpperCase();
}

/** An entity reference (`{ address }`) as federation passes it, or a full row. */
export type AddressParent = { address: string };
