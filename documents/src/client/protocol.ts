// The gateway's documents endpoints as both clients speak them (Node's DocumentsClient and the web page).
import { DocumentsRequestError } from "../errors.ts";

/** The response header of `GET /documents/:hash` that carries the caller's wrapped key (base64). */
export const wrappedKeyHeader = "x-carechain-wrapped-key";

/** A refused request as an error: the HTTP status and the gateway's `{ error: { code, message } }`. */
export async function requestErrorOf(response: Response): Promise<DocumentsRequestError> {
  const body = (await response.json().catch(() => undefined)) as
    | { error?: { code?: string; message?: string } }
    | undefined;
  return new DocumentsRequestError(
    response.status,
    body?.error?.code ?? `HTTP_${response.status}`,
    body?.error?.message ?? response.statusText,
  );
}
