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

/** The chain changed between two reads of the same range: read the range again. */
export class ChainChangedError extends RetryableError {}

/** The checkpoint in Kafka was written for another chain or other contracts than the configured ones. */
export class CheckpointMismatchError extends NonRetryableError {}

/** A Kafka transaction failed; whether it committed is unknown until the checkpoint is read again. */
export class PublishFailedError extends RetryableError {}

/** Another ingest with the same transactional id took over: this one must stop. */
export class ProducerFencedError extends NonRetryableError {}

/** Kafka refused the batch itself (a message too large, invalid records): sending it again cannot help. */
export class PublishRejectedError extends NonRetryableError {}
