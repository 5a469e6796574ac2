import { BaseError } from "@carechain/common";
import { HttpRequestError, TimeoutError, RpcRequestError as ViemRpcRequestError } from "viem";
import { RangeRefusedError, RpcRequestError, RpcTimeoutError, RpcUnavailableError } from "../errors.ts";

// Wordings of "your getLogs asked for too much" across nodes and providers (geth, erigon, alchemy,
// infura, quicknode, anvil...).
const rangeRefused =
  /more than \d+ results|too many (results|logs|blocks)|block range|range (is )?too (large|wide|big)|exceed|limit|response size|query timeout|max results/i;

/** JSON-RPC codes that mean "this request is wrong", not "try again later". */
const invalidRequestCodes = new Set([-32600, -32601, -32602, -32700]);

/**
 * Turns a viem / fetch error into one of our classes, so that `withRetry` knows whether to retry and the
 * range logic knows whether to shrink. Unknown errors are treated as transient.
 */
export function classifyRpcError(error: unknown, method: string): BaseError {
  if (error instanceof BaseError) return error;
  const text = describe(error);
  const details = `${method}: ${text}`;
  if (findInChain(error, (inner) => inner instanceof TimeoutError || undefined))
    return new RpcTimeoutError("RPC request timed out.", { details, cause: error });
  const status = httpStatus(error);
  if (status === 429 || (status !== undefined && status >= 500)) {
    return new RpcUnavailableError(`RPC answered HTTP ${status}.`, { details, cause: error });
  }
  const code = rpcCode(error);
  if (code === -32005 || (method === "eth_getLogs" && rangeRefused.test(text))) {
    return new RangeRefusedError("RPC refused the block range.", {
      details,
      cause: error,
      suggestedTo: suggestedTo(text),
    });
  }
  if (code !== undefined && invalidRequestCodes.has(code)) {
    return new RpcRequestError("RPC rejected the request.", { details, cause: error });
  }
  if (status !== undefined && status >= 400 && status < 500 && status !== 408) {
    return new RpcRequestError(`RPC answered HTTP ${status}.`, { details, cause: error });
  }
  return new RpcUnavailableError("RPC unavailable.", { details, cause: error });
}

/** The first error along the `cause` chain that `pick` maps to a value. */
function findInChain<T>(error: unknown, pick: (error: Error) => T | undefined): T | undefined {
  for (let inner: unknown = error, depth = 0; inner instanceof Error && depth < 8; depth++) {
    const found = pick(inner);
    if (found !== undefined) return found;
    inner = inner.cause;
  }
  return undefined;
}

function httpStatus(error: unknown): number | undefined {
  return findInChain(error, (inner) => (inner instanceof HttpRequestError ? inner.status : undefined));
}

function rpcCode(error: unknown): number | undefined {
  return findInChain(error, (inner) => {
    if (inner instanceof ViemRpcRequestError) return inner.code;
    const code = (inner as { code?: unknown }).code;
    return typeof code === "number" && code < 0 ? code : undefined;
  });
}

/** The innermost short messages, first line only: enough to classify and log, no request bodies. */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let inner: unknown = error; inner instanceof Error && parts.length < 4; inner = inner.cause) {
    const short = (inner as { shortMessage?: string }).shortMessage ?? inner.message;
    const details = (inner as { details?: string }).details;
    parts.push((details ? `${short} (${details})` : short).split("\n")[0]!);
  }
  return parts.length > 0 ? parts.join(" <- ") : String(error);
}

function suggestedTo(text: string): number | undefined {
  const match = /\[(0x[0-9a-f]+),\s*(0x[0-9a-f]+)\]/i.exec(text);
  return match ? Number.parseInt(match[2]!, 16) : undefined;
}
