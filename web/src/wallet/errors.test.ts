import { careChainErrorsAbi } from "@carechain/contracts/abis";
import {
  BaseError,
  ContractFunctionExecutionError,
  ContractFunctionRevertedError,
  encodeErrorResult,
} from "viem";
import { describe, expect, test } from "vitest";
import { walletMessage } from "./errors.ts";

const patient = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";

function reverted(errorName: string, args: readonly unknown[]) {
  const data = encodeErrorResult({ abi: careChainErrorsAbi, errorName, args } as never);
  const cause = new ContractFunctionRevertedError({
    abi: careChainErrorsAbi,
    data,
    functionName: "grantAccess",
  });
  return new ContractFunctionExecutionError(cause, { abi: careChainErrorsAbi, functionName: "grantAccess" });
}

describe("walletMessage", () => {
  test("behavior: a rejection in the wallet (4001) says nothing was sent", () => {
    const error = Object.assign(new Error("User rejected the request."), { code: 4001 });
    expect(walletMessage(error)).toMatch(/You rejected the request in your wallet\. Nothing was sent/);
  });

  test("behavior: a contract custom error is decoded into the contracts' own words", () => {
    expect(walletMessage(reverted("SelfGrant", []))).toBe(
      "The contract would refuse this: A patient cannot grant access to themself.",
    );
    expect(walletMessage(reverted("NotAPatient", [patient]))).toContain(
      `${patient} is not a registered patient.`,
    );
  });

  test("behavior: a locked wallet (4100) says to unlock it", () => {
    expect(walletMessage(Object.assign(new Error("locked"), { code: 4100 }))).toMatch(/locked/);
  });

  test("error: anything else gives its short message, never a stack", () => {
    const message = walletMessage(new BaseError("Something odd happened."));
    expect(message).toBe("Something odd happened.");
    expect(message).not.toMatch(/\n\s+at /);
  });
});
