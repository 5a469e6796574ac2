import { type Address, BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from "viem";
import { careChainErrorsAbi } from "../../generated/abis.ts";
import { type CareChainClientError, ContractRevertedError, RpcRequestError } from "../errors.ts";
import { revertMessage } from "./revert-messages.ts";

/** Hex revert data found anywhere in a viem error chain (for errors viem could not decode itself). */
function revertData(error: BaseError): Hex | undefined {
  let data: Hex | undefined;
  error.walk((e) => {
    const candidate = (e as { data?: unknown }).data;
    if (typeof candidate === "string" && candidate.startsWith("0x") && candidate.length >= 10) {
      data = candidate as Hex;
      return true;
    }
    if (
      candidate &&
      typeof candidate === "object" &&
      typeof (candidate as { data?: unknown }).data === "string"
    ) {
      data = (candidate as { data: Hex }).data;
      return true;
    }
    return false;
  });
  return data;
}

/**
 * Turns what simulating or estimating a call threw into a CareChain error: the contract's custom error
 * (decoded with the errors ABI, with a readable message) or, for anything else, a retryable RPC error.
 */
export function toCareChainError(
  error: unknown,
  call: { contractAddress: Address; functionName: string; action: string },
): CareChainClientError | Error {
  if (!(error instanceof BaseError)) return error instanceof Error ? error : new Error(String(error));
  const reverted = error.walk(
    (e) => e instanceof ContractFunctionRevertedError,
  ) as ContractFunctionRevertedError | null;
  let decoded: { errorName: string; args: readonly unknown[] } | undefined;
  if (reverted?.data) {
    decoded = { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
  } else {
    const data = reverted?.raw ?? revertData(error);
    if (data) {
      try {
        const result = decodeErrorResult({ abi: careChainErrorsAbi, data });
        decoded = { errorName: result.errorName, args: result.args ?? [] };
      } catch {
        // not one of ours
      }
    }
  }
  if (decoded) {
    const message =
      decoded.errorName === "Error"
        ? `The contract reverted: ${String(decoded.args[0])}`
        : revertMessage(decoded.errorName, decoded.args);
    return new ContractRevertedError({ ...decoded, message, ...call, cause: error });
  }
  if (reverted) {
    return new ContractRevertedError({
      errorName: "unknown",
      args: [],
      message: `The contract reverted${reverted.reason ? `: ${reverted.reason}` : " without a reason"}.`,
      ...call,
      cause: error,
    });
  }
  return new RpcRequestError(call.action, error);
}
