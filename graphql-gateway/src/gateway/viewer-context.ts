import { createHash } from "node:crypto";
import { z } from "zod";
import { signHs256, verifyHs256 } from "../auth/hs256.ts";
import type { Viewer } from "../auth/viewer.ts";
import { GatewayError, UnauthenticatedError } from "../errors.ts";

/** The header in which the gateway tells a subgraph who is asking, signed so that only it can. */
export const viewerContextHeader = "x-carechain-viewer";

const issuer = "carechain-gateway";
const audience = "carechain-subgraph";

// Built once: a zod schema costs far more to build than to check a value with.
const requestIdSchema = z.string().min(1).max(200);

const viewerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("anonymous") }),
  z.object({
    kind: z.literal("account"),
    address: z.string().regex(/^0x[0-9a-f]{40}$/),
    role: z.enum(["none", "patient", "doctor", "organization"]),
    organizationKind: z.number().int().nullable(),
    verified: z.boolean().nullable(),
    // An API key's viewer stays limited in the subgraphs: dropping this would widen it to a session.
    scope: z.literal("delivery").optional(),
  }),
]);

export type ViewerContext = { viewer: Viewer; requestId: string };

/** What a subgraph request carries in its JSON body (as the gateway sends it, as a subgraph reads it). */
export type SubgraphRequestBody = { query?: unknown; operationName?: unknown; variables?: unknown };

/**
 * How long a signed context is valid. The gateway signs one for each subgraph fetch just before sending it,
 * so a few seconds leave room for a loaded machine and little for replays.
 */
export const viewerContextTtlSeconds = 5;

/**
 * The request a context is bound to: SHA-256 of the query, the operation name and the variables as JSON.
 * JSON.stringify of the gateway's variables and of the subgraph's JSON.parse of them give the same text.
 */
export function subgraphRequestHash(body: SubgraphRequestBody): string {
  const query = typeof body.query === "string" ? body.query : "";
  const operationName = typeof body.operationName === "string" ? body.operationName : "";
  return createHash("sha256")
    .update(query)
    .update("\0")
    .update(operationName)
    .update("\0")
    .update(JSON.stringify(body.variables ?? null))
    .digest("base64url");
}

/**
 * Signed for one subgraph request (its query, operation name and variables) and sent with it, so that a
 * captured header is good for that very request only, for a few seconds.
 */
export async function signViewerContext(
  secret: string,
  context: ViewerContext,
  request: SubgraphRequestBody,
  ttlSeconds = viewerContextTtlSeconds,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    vwr: context.viewer,
    rid: context.requestId,
    req: subgraphRequestHash(request),
    iss: issuer,
    aud: audience,
    iat: now,
    exp: now + ttlSeconds,
  };
  return signHs256(secret, claims);
}

/**
 * What a subgraph trusts: UNAUTHENTICATED without the header, FORBIDDEN with a bad or expired one, or one
 * signed for another request.
 */
export async function verifyViewerContext(
  secret: string,
  header: string | undefined,
  request: SubgraphRequestBody,
): Promise<ViewerContext> {
  if (!header) {
    throw new UnauthenticatedError(
      `Subgraphs answer the gateway only: missing ${viewerContextHeader} header.`,
    );
  }
  const payload = verifiedClaims(secret, header);
  if (!payload) throw new GatewayError("FORBIDDEN", `Invalid ${viewerContextHeader} header.`);
  if (payload.req !== subgraphRequestHash(request)) {
    throw new GatewayError("FORBIDDEN", `The ${viewerContextHeader} header was signed for another request.`);
  }
  try {
    const viewer = viewerSchema.parse(payload.vwr) as Viewer;
    const requestId = requestIdSchema.parse(payload.rid);
    return { viewer, requestId };
  } catch {
    throw new GatewayError("FORBIDDEN", `Invalid ${viewerContextHeader} header.`);
  }
}

/** The claims of a context signed with `secret`, for a subgraph, not expired; null for anything else. */
function verifiedClaims(secret: string, token: string): Record<string, unknown> | null {
  const claims = verifyHs256(secret, token);
  if (!claims) return null;
  const { iss, aud, exp, req } = claims;
  if (iss !== issuer || aud !== audience || typeof req !== "string") return null;
  if (typeof exp !== "number" || exp <= Math.floor(Date.now() / 1000)) return null;
  return claims;
}
