import type { ServerResponse } from "node:http";
import type { Logger } from "@carechain/common";
import type { OperationOutcome, OperationOutcomeIssue } from "@medplum/fhirtypes";
import { type ErrorCode, GatewayError } from "../errors.ts";
import { fhirMediaType } from "./codes.ts";

/** Each gateway error code as the OperationOutcome issue type a FHIR client expects beside its status. */
const issueCodes: Partial<Record<ErrorCode, OperationOutcomeIssue["code"]>> = {
  BAD_REQUEST: "invalid",
  BAD_USER_INPUT: "invalid",
  UNAUTHENTICATED: "login",
  FORBIDDEN: "forbidden",
  NOT_FOUND: "not-found",
  METHOD_NOT_ALLOWED: "not-supported",
  PAYLOAD_TOO_LARGE: "too-costly",
  AUDIT_UNAVAILABLE: "transient",
};

export function operationOutcome(
  severity: OperationOutcomeIssue["severity"],
  code: OperationOutcomeIssue["code"],
  diagnostics: string,
): OperationOutcome {
  return { resourceType: "OperationOutcome", issue: [{ severity, code, diagnostics }] };
}

export function sendFhir(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, {
    "content-type": `${fhirMediaType}; charset=utf-8`,
    // Health data: no cache on the way may keep it.
    "cache-control": "no-store",
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/**
 * The one answer to a failed FHIR request: an OperationOutcome with the error's HTTP status (401 with
 * `login`, 403 `forbidden`, 503 `transient` when the read could not be audited, ...). Anything that is not
 * a GatewayError is logged and answered 500 `exception` without details, as `sendError` does for the rest
 * of the gateway.
 */
export function sendOutcome(res: ServerResponse, error: unknown, log: Logger): void {
  if (res.headersSent) return void res.end();
  if (!(error instanceof GatewayError)) log.error({ err: error }, "FHIR request failed");
  const known =
    error instanceof GatewayError
      ? error
      : new GatewayError("INTERNAL_SERVER_ERROR", "Internal server error.");
  const headers: Record<string, string> = {};
  if (known.code === "UNAUTHENTICATED" && !res.hasHeader("www-authenticate"))
    headers["www-authenticate"] = "Bearer";
  if (known.retryable) headers["retry-after"] = "5";
  sendFhir(
    res,
    known.status,
    operationOutcome("error", issueCodes[known.code] ?? "exception", known.shortMessage),
    headers,
  );
}
