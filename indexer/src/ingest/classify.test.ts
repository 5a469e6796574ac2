import { isRetryable } from "@carechain/common";
import { HttpRequestError, RpcRequestError, TimeoutError } from "viem";
import { describe, expect, test } from "vitest";
import {
  RpcRequestError as OurRequestError,
  RangeRefusedError,
  RpcTimeoutError,
  RpcUnavailableError,
} from "../errors.ts";
import { classifyRpcError } from "./classify.ts";

const rpcError = (code: number, message: string) =>
  new RpcRequestError({ body: {}, error: { code, message }, url: "http://x" });

describe("classifyRpcError", () => {
  test("default: unknown failures are transient", () => {
    const error = classifyRpcError(new Error("socket hang up"), "eth_blockNumber");
    expect(error).toBeInstanceOf(RpcUnavailableError);
    expect(isRetryable(error)).toBe(true);
  });

  test("behavior: log queries refused as too large ask for a smaller range, with the provider's hint", () => {
    const refused = classifyRpcError(
      rpcError(-32602, "query returned more than 10000 results. Try with this block range [0x10, 0x20]."),
      "eth_getLogs",
    );
    expect(refused).toBeInstanceOf(RangeRefusedError);
    expect((refused as RangeRefusedError).suggestedTo).toBe(0x20);
    expect(classifyRpcError(rpcError(-32005, "limit exceeded"), "eth_getLogs")).toBeInstanceOf(
      RangeRefusedError,
    );
    expect(classifyRpcError(rpcError(-32000, "block range is too wide"), "eth_getLogs")).toBeInstanceOf(
      RangeRefusedError,
    );
  });

  test("behavior: timeouts, HTTP 5xx and 429 are retryable; bad requests are not", () => {
    expect(classifyRpcError(new TimeoutError({ body: {}, url: "http://x" }), "eth_getLogs")).toBeInstanceOf(
      RpcTimeoutError,
    );
    const http = (status: number) => new HttpRequestError({ url: "http://x", status });
    expect(isRetryable(classifyRpcError(http(503), "eth_getLogs"))).toBe(true);
    expect(isRetryable(classifyRpcError(http(429), "eth_getLogs"))).toBe(true);
    expect(classifyRpcError(http(401), "eth_blockNumber")).toBeInstanceOf(OurRequestError);
    expect(classifyRpcError(rpcError(-32601, "method not found"), "eth_blockNumber")).toBeInstanceOf(
      OurRequestError,
    );
    expect(isRetryable(classifyRpcError(rpcError(-32603, "internal error"), "eth_blockNumber"))).toBe(true);
  });
});
