import { NonRetryableError } from "@carechain/common";
import { GraphQLError } from "./graphql.ts";

/** The `extensions.code` values the gateway and its subgraphs answer with. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "BAD_USER_INPUT"
  | "QUERY_TOO_DEEP"
  | "QUERY_TOO_COSTLY"
  | "INTERNAL_SERVER_ERROR";

/**
 * An error a client caused (no retry helps) that carries a GraphQL error code and the HTTP status to use
 * when it ends a request before execution.
 */
export class GatewayError extends NonRetryableError {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; details?: string; cause?: unknown } = {},
  ) {
    super(message, options);
    this.code = code;
    this.status = options.status ?? 400;
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

/** Resolver-friendly: a GraphQLError with `extensions.code`, its original a GatewayError. */
export function forbidden(message: string): GraphQLError {
  return new ForbiddenError(message).toGraphQLError();
}

export function badUserInput(message: string): GraphQLError {
  return new BadUserInputError(message).toGraphQLError();
}
