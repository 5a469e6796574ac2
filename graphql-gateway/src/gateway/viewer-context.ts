import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { Viewer } from "../auth/viewer.ts";
import { GatewayError, UnauthenticatedError } from "../errors.ts";

/** The header in which the gateway tells a subgraph who is asking, signed so that only it can. */
export const viewerContextHeader = "x-carechain-viewer";

const issuer = "carechain-gateway";
const audience = "carechain-subgraph";

const viewerSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("anonymous") }),
  z.object({
    kind: z.literal("account"),
    address: z.string().regex(/^0x[0-9a-f]{40}$/),
    role: z.enum(["none", "patient", "doctor", "organization"]),
    organizationKind: z.number().int().nullable(),
    verified: z.boolean().nullable(),
  }),
]);

export type ViewerContext = { viewer: Viewer; requestId: string };

/**
 * The context is a compact JWT (HS256) made and checked with node:crypto's HMAC, synchronously: the gateway
 * signs one and a subgraph verifies one for every subgraph fetch, and WebCrypto's job round trip (jose)
 * cost more than the rest of the check.
 */
const jwtHeader = Buffer.from(JSON.stringify({ alg: "HS256" })).toString("base64url");

const hmac = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest();

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
  const signed = `${jwtHeader}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  return `${signed}.${hmac(secret, signed).toString("base64url")}`;
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
    const requestId = z.string().min(1).max(200).parse(payload.rid);
    return { viewer, requestId };
  } catch {
    throw new GatewayError("FORBIDDEN", `Invalid ${viewerContextHeader} header.`);
  }
}

/** The claims of a context signed with `secret`, for a subgraph, not expired; null for anything else. */
function verifiedClaims(secret: string, token: string): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== jwtHeader) return null;
  const signature = Buffer.from(parts[2]!, "base64url");
  const expected = hmac(secret, `${parts[0]}.${parts[1]}`);
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (typeof claims !== "object" || claims === null) return null;
  const { iss, aud, exp, req } = claims as Record<string, unknown>;
  if (iss !== issuer || aud !== audience || typeof req !== "string") return null;
  if (typeof exp !== "number" || exp <= Math.floor(Date.now() / 1000)) return null;
  return claims as Record<string, unknown>;
}
