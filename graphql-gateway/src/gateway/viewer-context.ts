import { jwtVerify, SignJWT } from "jose";
import { z } from "zod";
import { secretKey } from "../auth/jwt.ts";
import type { Viewer } from "../auth/viewer.ts";
import { ForbiddenError, UnauthenticatedError } from "../errors.ts";

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

/** Signed once per incoming request and sent with every subgraph fetch of that request. */
export async function signViewerContext(
  secret: string,
  context: ViewerContext,
  ttlSeconds = 120,
): Promise<string> {
  return new SignJWT({ vwr: context.viewer, rid: context.requestId })
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secretKey(secret));
}

/** What a subgraph trusts: UNAUTHENTICATED without the header, FORBIDDEN with a bad one. */
export async function verifyViewerContext(
  secret: string,
  header: string | undefined,
): Promise<ViewerContext> {
  if (!header) {
    throw new UnauthenticatedError(
      `Subgraphs answer the gateway only: missing ${viewerContextHeader} header.`,
    );
  }
  try {
    const { payload } = await jwtVerify(header, secretKey(secret), {
      algorithms: ["HS256"],
      issuer,
      audience,
    });
    const viewer = viewerSchema.parse(payload.vwr) as Viewer;
    const requestId = z.string().min(1).max(200).parse(payload.rid);
    return { viewer, requestId };
  } catch {
    throw new ForbiddenError(`Invalid ${viewerContextHeader} header.`);
  }
}
