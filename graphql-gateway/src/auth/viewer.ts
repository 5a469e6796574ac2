import type { Address } from "viem";
import type { Database } from "../database/pool.ts";

/** The role an address holds in the identity registry (one role per address), as projected. */
export type Role = "none" | "patient" | "doctor" | "organization";

/** Organization kinds as coded on chain (CareChainTypes.ORG_*). */
export const organizationKinds = {
  1: "HOSPITAL",
  2: "INSURER",
  3: "LABORATORY",
  4: "PHARMACY",
  5: "RESEARCH",
} as const;

/** Who is asking. Anonymous viewers see only the public doctor directory. */
export type Viewer =
  | { kind: "anonymous" }
  | {
      kind: "account";
      address: Address;
      role: Role;
      /** For organizations: 1 hospital, 2 insurer, 3 laboratory, 4 pharmacy, 5 research. */
      organizationKind: number | null;
      /** For doctors: verified by a registrar hospital. */
      verified: boolean | null;
      /**
       * Set when an API key authenticated the request (webhooks/api-keys.ts): the account, limited to event
       * delivery (webhooks/scope.ts). Absent for a wallet session (JWT): everything the account may do.
       */
      scope?: "delivery";
    };

export const anonymousViewer: Viewer = { kind: "anonymous" };

export function viewerAddress(viewer: Viewer): Address | null {
  return viewer.kind === "account" ? viewer.address : null;
}

const addressPattern = /^0x[0-9a-fA-F]{40}$/;

export function isAddress(value: unknown): value is Address {
  return typeof value === "string" && addressPattern.test(value);
}

export function normalizeAddress(value: string): Address {
  return value.toLowerCase() as Address;
}

/**
 * The viewer behind a verified address: its role comes from the projections (one statement), fresh on
 * every request so that a registration is visible as soon as it is indexed.
 */
export async function loadViewer(db: Database, address: Address): Promise<Viewer> {
  const lower = normalizeAddress(address);
  const rows = await db.query<{ role: Role; kind: number | null; verified: boolean | null }>(
    `SELECT 'patient' AS role, NULL::smallint AS kind, NULL::boolean AS verified
       FROM ${db.projection}.patients WHERE address = $1
     UNION ALL
     SELECT 'doctor', NULL, verified FROM ${db.projection}.doctors WHERE address = $1
     UNION ALL
     SELECT 'organization', kind, NULL FROM ${db.projection}.organizations WHERE address = $1
     LIMIT 1`,
    [lower],
  );
  const row = rows[0];
  return {
    kind: "account",
    address: lower,
    role: row?.role ?? "none",
    organizationKind: row?.kind ?? null,
    verified: row?.verified ?? null,
  };
}
