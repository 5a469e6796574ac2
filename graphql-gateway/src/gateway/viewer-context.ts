import { createHash, type webcrypto } from "node:crypto";
import { type JWTPayload, jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { secretKey } from "../auth/jwt.ts";
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

const keys = new Map<string, Promise<webcrypto.CryptoKey>>();

/** The HMAC key of a secret, imported once: signing each subgraph fetch then costs half as much. */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", secretKey(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    if (keys.size > 16) keys.clear();
    keys.set(secret, key);
  }
  return key;
}

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
  return new SignJWT({ vwr: context.viewer, rid: context.requestId, req: subgraphRequestHash(request) })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(await hmacKey(secret));
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
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(header, await hmacKey(secret), {
      algorithms: ["HS256"],
      issuer,
      audience,
      requiredClaims: ["exp", "req"],
    }));
  } catch {
    throw new GatewayError("FORBIDDEN", `Invalid ${viewerContextHeader} header.`);
  }
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
