// Whatever a wallet, the node or a contract threw, as a sentence that says what to do. Never a stack trace.
import { careChainErrorsAbi } from "@carechain/contracts/abis";
import { revertMessage } from "@carechain/contracts/revert-messages";
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from "viem";

function codeOf(error: unknown): number | undefined {
  let code: number | undefined;
  const visit = (e: unknown) => {
    const c = (e as { code?: unknown } | null)?.code;
    if (typeof c === "number" && code === undefined) code = c;
  };
  visit(error);
  if (error instanceof BaseError)
    error.walk((e) => {
      visit(e);
      return false;
    });
  return code;
}

function revertOf(error: unknown): string | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError) as
    | ContractFunctionRevertedError
    | undefined;
  if (reverted?.data) return revertMessage(reverted.data.errorName, reverted.data.args ?? []);
  let data: Hex | undefined;
  error.walk((e) => {
    const d = (e as { data?: unknown }).data;
    if (typeof d === "string" && d.startsWith("0x") && d.length >= 10) data = d as Hex;
    return data !== undefined;
  });
  if (data) {
    try {
      const decoded = decodeErrorResult({ abi: careChainErrorsAbi, data });
      return revertMessage(decoded.errorName, decoded.args ?? []);
    } catch {
      // not one of ours
    }
  }
  if (reverted)
    return `The contract refused the transaction${reverted.reason ? `: ${reverted.reason}` : "."}`;
  return undefined;
}

export function walletMessage(error: unknown): string {
  const code = codeOf(error);
  if (code === 4001)
    return "You rejected the request in your wallet. Nothing was sent; try again when ready.";
  if (code === 4100)
    return "Your wallet is locked or has not allowed this site: unlock it, then connect again.";
  if (code === 4902)
    return "Your wallet does not know the CareChain network and could not add it: add it in the wallet.";
  const revert = revertOf(error);
  if (revert) return `The contract would refuse this: ${revert}`;
  if (error instanceof BaseError && /fetch|HTTP request failed|network/i.test(error.shortMessage))
    return "The chain does not answer. Check your connection and try again in a moment.";
  if (error instanceof Error && error.name === "GatewayUnreachableError") return error.message;
  if (error instanceof BaseError) return error.shortMessage;
  return error instanceof Error ? error.message : String(error);
}
