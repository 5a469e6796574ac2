import { type Address, BaseError, type Hex } from "viem";

/**
 * Errors of @carechain/contracts (the client's and the deployment file's). Like every CareChain error they say
 * whether trying the same call again can help (`retryable`); like viem's errors (contracts sits upstream of
 * @carechain/common) they carry a short message plus details.
 */
export abstract class CareChainClientError extends BaseError {
  abstract readonly retryable: boolean;
}

/** A deployments file is missing, unreadable, invalid or for another chain: fix the file or the setting. */
export class DeploymentFileError extends CareChainClientError {
  readonly retryable = false;
  constructor(message: string, options: { details?: string; cause?: Error } = {}) {
    super(message, { name: "DeploymentFileError", ...options });
  }
}

/** The wallet client has no account to send from (or no wallet client was given). */
export class NoAccountError extends CareChainClientError {
  readonly retryable = false;
  constructor(action: string) {
    super(`Cannot ${action}: no account is connected.`, {
      name: "NoAccountError",
      details:
        "Create the client with a walletClient that has an account (createWalletClient({ account, ... })).",
    });
  }
}

/** The wallet is connected to another chain than the deployment's. */
export class WrongChainError extends CareChainClientError {
  readonly retryable = false;
  readonly expectedChainId: number;
  readonly actualChainId: number;
  constructor(expectedChainId: number, actualChainId: number) {
    super(
      `Wrong network: the wallet is on chain ${actualChainId}, CareChain is deployed on chain ${expectedChainId}.`,
      {
        name: "WrongChainError",
        details: `Switch the wallet to chain ${expectedChainId}.`,
      },
    );
    this.expectedChainId = expectedChainId;
    this.actualChainId = actualChainId;
  }
}

/** The account cannot pay the estimated fee (gas x max fee per gas). */
export class InsufficientFundsError extends CareChainClientError {
  readonly retryable = false;
  readonly account: Address;
  /** Wei needed for the estimated fee. */
  readonly need: bigint;
  /** Wei the account holds. */
  readonly have: bigint;
  constructor(account: Address, need: bigint, have: bigint) {
    super(`Insufficient funds: ${account} needs ${need} wei for the fee but holds ${have} wei.`, {
      name: "InsufficientFundsError",
      details: `Fund the account with at least ${need - have} more wei.`,
    });
    this.account = account;
    this.need = need;
    this.have = have;
  }
}

/** The contract refused the call with one of its custom errors (found by simulating before sending). */
export class ContractRevertedError extends CareChainClientError {
  readonly retryable = false;
  readonly errorName: string;
  readonly args: readonly unknown[];
  readonly contractAddress: Address;
  readonly functionName: string;
  constructor(options: {
    errorName: string;
    args: readonly unknown[];
    message: string;
    contractAddress: Address;
    functionName: string;
    cause?: Error;
  }) {
    super(options.message, {
      name: "ContractRevertedError",
      details: `${options.functionName} on ${options.contractAddress} reverted with ${options.errorName}(${options.args.map(String).join(", ")})`,
    });
    // Set after super so that viem's BaseError keeps our details instead of the simulation's.
    this.cause = options.cause;
    this.errorName = options.errorName;
    this.args = options.args;
    this.contractAddress = options.contractAddress;
    this.functionName = options.functionName;
  }
}

/** The transaction was mined but reverted (the state changed between the simulation and the block). */
export class TransactionRevertedError extends CareChainClientError {
  readonly retryable = false;
  readonly hash: Hex;
  constructor(functionName: string, hash: Hex) {
    super(`${functionName} was mined but reverted (transaction ${hash}).`, {
      name: "TransactionRevertedError",
      details:
        "The chain state changed after the pre-send simulation; call again to get the contract's reason.",
    });
    this.hash = hash;
  }
}

/**
 * A sent transaction got no receipt: the node stopped answering (`nodeUnreachable`), or did not mine it
 * within the client's receipt timeout. It may still be mined: look it up by `hash` before sending again.
 */
export class ReceiptTimeoutError extends CareChainClientError {
  readonly retryable = true;
  readonly hash: Hex;
  readonly nodeUnreachable: boolean;
  constructor(
    functionName: string,
    hash: Hex,
    options: { waitedMs: number; nodeUnreachable: boolean; cause?: Error },
  ) {
    const seconds = Math.round(options.waitedMs / 100) / 10;
    super(
      options.nodeUnreachable
        ? `No receipt for ${functionName} (transaction ${hash}): the node stopped answering after ${seconds} s.`
        : `No receipt for ${functionName} (transaction ${hash}) within ${seconds} s: not mined yet.`,
      {
        name: "ReceiptTimeoutError",
        details:
          "The transaction may still be mined: look it up by hash (eth_getTransactionReceipt) before sending it again.",
        cause: options.cause,
      },
    );
    this.hash = hash;
    this.nodeUnreachable = options.nodeUnreachable;
  }
}

/** The node could not be reached or answered with an error unrelated to the contract: retrying can help. */
export class RpcRequestError extends CareChainClientError {
  readonly retryable = true;
  constructor(action: string, cause: Error) {
    super(`Could not ${action}: the node did not answer as expected.`, { name: "RpcRequestError", cause });
  }
}
