/**
 * Every CareChain error says whether trying again can help, as ponder's RetryableError /
 * NonRetryableUserError do, and carries a short message plus optional details, as viem's BaseError does.
 */
export type BaseErrorOptions = {
  details?: string;
  cause?: unknown;
};

export abstract class BaseError extends Error {
  abstract readonly retryable: boolean;
  readonly shortMessage: string;
  readonly details: string | undefined;

  constructor(shortMessage: string, options: BaseErrorOptions = {}) {
    super(options.details ? `${shortMessage}\n\nDetails: ${options.details}` : shortMessage, {
      cause: options.cause,
    });
    this.shortMessage = shortMessage;
    this.details = options.details;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A transient failure (network, timeout, broker or database unavailable): retrying can help. */
export class RetryableError extends BaseError {
  readonly retryable = true;
}

/** A failure that will happen again on retry (bad input, bad configuration, a bug). */
export class NonRetryableError extends BaseError {
  readonly retryable = false;
}

/** Configuration is missing or invalid; the message names what to set. */
export class ConfigError extends NonRetryableError {}

/** A message or log that does not match the expected shape; it goes to a dead-letter destination. */
export class DecodeError extends NonRetryableError {}

/**
 * Whether `error` is worth retrying. Errors of our own say so; unknown errors (from drivers and
 * libraries) are assumed transient unless they are plain programming errors.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof BaseError) return error.retryable;
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError) return false;
  if (error && typeof error === "object" && "retriable" in error) return Boolean(error.retriable);
  return true;
}
