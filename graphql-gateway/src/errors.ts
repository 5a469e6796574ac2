import { BaseError, NonRetryableError } from "@carechain/common";
import { GraphQLError } from "./graphql.ts";

/** The codes the gateway and its subgraphs answer with (`extensions.code`, or `error.code`), by HTTP status. */
const statusOf = {
  BAD_REQUEST: 400,
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NO_KEY: 404,
  /** An events cursor that is not one of ours (malformed, or tampered with). */
  INVALID_CURSOR: 400,
  /** An events cursor from a feed generation that a rebuild replaced: restart without one. */
  CURSOR_EXPIRED: 410,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  INTERNAL_SERVER_ERROR: 500,
  AUDIT_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof statusOf;

/**
 * An error answered to the client with its code and message (http.ts `sendError`, or a GraphQL error), and
 * the HTTP status of its code when it ends a request. Most are the client's doing (no retry helps);
 * `retryable` marks the others.
 */
export class GatewayError extends BaseError {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(message, options);
    this.code = code;
    this.status = statusOf[code];
    this.retryable = options.retryable ?? false;
  }

  /** As a GraphQLError with `extensions.code` (resolver errors keep HTTP 200: partial data). */
  toGraphQLError(): GraphQLError {
    return new GraphQLError(this.shortMessage, { originalError: this, extensions: { code: this.code } });
  }
}

/** No valid token or viewer context; the gateway then serves the request as anonymous. */
export class UnauthenticatedError extends GatewayError {
  constructor(message: string) {
    super("UNAUTHENTICATED", message);
  }
}

/** Why a sign-in was refused; clients get it as `error.reason`. */
export type SignInFailure =
  | "MALFORMED"
  | "WRONG_DOMAIN"
  | "WRONG_URI"
  | "WRONG_CHAIN"
  | "EXPIRED"
  | "NOT_YET_VALID"
  | "BAD_SIGNATURE"
  | "BAD_NONCE";

export class SignInError extends GatewayError {
  readonly reason: SignInFailure;
  constructor(reason: SignInFailure, message: string) {
    super(reason === "MALFORMED" ? "BAD_USER_INPUT" : "UNAUTHENTICATED", message);
    this.reason = reason;
  }
}

/**
 * The audit log could not store the record of a read: the read is refused (fail closed), never answered
 * unaudited. Retrying can help once the audit database is back.
 */
export class AuditUnavailableError extends GatewayError {
  constructor(options: { details?: string; cause?: unknown } = {}) {
    super("AUDIT_UNAVAILABLE", "This read could not be audited, so it was refused; try again shortly.", {
      retryable: true,
      ...options,
    });
  }
}

/** Resolver-friendly: a GraphQLError with `extensions.code`, its original a GatewayError. */
export function forbidden(message: string): GraphQLError {
  return new GatewayError("FORBIDDEN", message).toGraphQLError();
}

export function badUserInput(message: string): GraphQLError {
  return new GatewayError("BAD_USER_INPUT", message).toGraphQLError();
}

/** Why a webhook URL was refused (webhooks/url-rules.ts); the delivery service tells them apart. */
export type WebhookUrlFailure = "INVALID_URL" | "PRIVATE_ADDRESS" | "UNRESOLVED";

/**
 * A webhook URL the rule refuses: malformed (not http(s), userinfo, no host), on a private address (unless
 * the operator allows them), or a host that does not resolve (retrying can help: DNS may recover).
 */
export class WebhookUrlError extends GatewayError {
  readonly reason: WebhookUrlFailure;
  constructor(reason: WebhookUrlFailure, message: string, options: { cause?: unknown } = {}) {
    super("BAD_USER_INPUT", message, { ...options, retryable: reason === "UNRESOLVED" });
    this.reason = reason;
  }
}

/** The subgraphs do not compose into a supergraph (the build fails); `details` lists every error. */
export class CompositionError extends NonRetryableError {}

/** The gateway refused a client's sign-in (client/sign-in.ts); `reason` says why (WRONG_DOMAIN, BAD_NONCE, ...). */
export class SignInFailedError extends NonRetryableError {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}
