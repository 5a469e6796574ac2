// The errors-only entry of common: this file is part of the browser entry (no logger or metrics there).
import { NonRetryableError, RetryableError } from "@carechain/common/errors";

/**
 * Ciphertext that does not match its expected hash, or a chunk that fails authentication: the document was
 * changed (or the key is wrong). The threat model's answer to a compromised store or gateway.
 */
export class IntegrityError extends NonRetryableError {}

/** The store has no blob with this hash (the gateway answers 404). */
export class BlobNotFoundError extends NonRetryableError {}

/** The gateway refused a request: its HTTP status and error code (FORBIDDEN, PAYLOAD_TOO_LARGE, …). */
export class DocumentsRequestError extends NonRetryableError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** A reader has no registered X25519 `encryptionKey` this viewer may see (or ours is not our secret's). */
export class NoEncryptionKeyError extends NonRetryableError {}

/** The record was written on chain but the gateway has not indexed it yet: waiting longer can help. */
export class RecordNotVisibleError extends RetryableError {}
