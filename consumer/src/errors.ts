import { NonRetryableError, RetryableError } from "@carechain/common";

/** Why a webhook was refused (WebhookVerificationError.reason); receivers answer with it. */
export type WebhookRefusal =
  | "missing-header"
  | "bad-header"
  | "bad-signature"
  | "timestamp-too-old"
  | "timestamp-too-new"
  | "replayed";

/**
 * A webhook that is not what the sender signed, or not now: refused. The same request will be refused again
 * (the sender's next attempt is a new, freshly signed request).
 */
export class WebhookVerificationError extends NonRetryableError {
  readonly reason: WebhookRefusal;

  constructor(reason: WebhookRefusal, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * The events API refused the request for a reason that stays (INVALID_CURSOR, FORBIDDEN, UNAUTHENTICATED,
 * BAD_USER_INPUT, ...): fix the request, the credentials or the grant first. `code` is the gateway's.
 */
export class EventsRequestRefusedError extends NonRetryableError {
  readonly code: string;
  readonly status: number;

  constructor(code: string, status: number, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
    this.status = status;
  }
}

/** The events API could not be reached or failed on its side (network, 5xx, 429, audit unavailable). */
export class EventsUnavailableError extends RetryableError {
  readonly status: number | undefined;

  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.status = options.status;
  }
}
