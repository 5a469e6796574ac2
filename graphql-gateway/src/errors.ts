import { BaseError } from "@carechain/common";
import { GraphQLError } from "./graphql.ts";

/** The `extensions.code` values the gateway and its subgraphs answer with. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "QUERY_TOO_DEEP"
  | "QUERY_TOO_COSTLY"
  | "AUDIT_UNAVAILABLE"
  | "INTERNAL_SERVER_ERROR";

/**
 * An error answered to the client with a GraphQL error code and the HTTP status to use when it ends a
 * request before execution. Most are the client's doing (no retry helps); `retryable` marks the others.
 */
export class GatewayError extends BaseError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; details?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options);
    this.code = code;
    this.status = options.status ?? 400;
    this.retryable = options.retryable ?? false;
  }

  /**
   * As a GraphQLError with `extensions.code`. `withStatus` adds the HTTP status, for errors that end a
   * request before execution; resolver errors keep HTTP 200 (partial data).
   */
  toGraphQLError(options: { withStatus?: boolean } = {}): GraphQLError {
    return new GraphQLError(this.shortMessage, {
      originalError: this,
      extensions: options.withStatus
        ? { code: this.code, http: { status: this.status } }
        : { code: this.code },
    });
  }
}

/** Not allowed, or nothing there: the two look the same so that a denial reveals nothing. */
export class ForbiddenError extends GatewayError {
  constructor(message: string) {
    super("FORBIDDEN", message, { status: 403 });
  }
}

export class UnauthenticatedError extends GatewayError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message, { status: 401 });
  }
}

export class BadUserInputError extends GatewayError {
  constructor(message: string) {
    super("BAD_USER_INPUT", message, { status: 400 });
  }
}

/**
 * The audit log could not store the record of a read: the read is refused (fail closed), never answered
 * unaudited. Retrying can help once the audit database is back.
 */
export class AuditUnavailableError extends GatewayError {
  constructor(options: { details?: string; cause?: unknown } = {}) {
    super("AUDIT_UNAVAILABLE", "This read could not be audited, so it was refused; try again shortly.", {
      status: 503,
      retryable: true,
      ...options,
    });
  }
}

/** Resolver-friendly: a GraphQLError with `extensions.code`, its original a GatewayError. */
export function forbidden(message: string): GraphQLError {
  return new ForbiddenError(message).toGraphQLError();
}

export function badUserInput(message: string): GraphQLError {
  return new BadUserInputError(message).toGraphQLError();
}
