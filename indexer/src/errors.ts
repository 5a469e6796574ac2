// The indexer's own error classes: only those a caller tells apart (by instanceof, or by name as the
// `kind` label of carechain_ingest_rpc_errors_total). Every other failure is a Retryable/NonRetryableError.
import { NonRetryableError, RetryableError } from "@carechain/common";

/** The RPC refused a log query as too large (too many results, range too wide): ask for a smaller range. */
export class RangeRefusedError extends NonRetryableError {
  /** Upper bound some providers suggest in their error ("this block range should work: [a, b]"). */
  readonly suggestedTo: number | undefined;
  constructor(
    shortMessage: string,
    options: { details?: string; cause?: unknown; suggestedTo?: number } = {},
  ) {
    super(shortMessage, options);
    this.suggestedTo = options.suggestedTo;
  }
}

/** A call took longer than the RPC timeout; for log queries a smaller range may help. */
export class RpcTimeoutError extends RetryableError {}

/** A transient RPC failure (network, HTTP 5xx or 429, node busy). */
export class RpcUnavailableError extends RetryableError {}

/** The RPC rejected the request itself (bad parameters, unknown method): retrying will not help. */
export class RpcRequestError extends NonRetryableError {}

/** A Kafka transaction failed; whether it committed is unknown until the checkpoint is read again. */
export class PublishFailedError extends RetryableError {}
