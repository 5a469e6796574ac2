// One contract write and the states a person sees: checked (the contract would accept it, the account can
// pay for it), waiting for the wallet, sent, mined, visible in CareChain (the gateway shows it: indexed).
import { useCallback, useState } from "react";
import { type Abi, type Address, formatEther, type Hash } from "viem";
import { useAccount, usePublicClient, useWalletClient } from "wagmi";
import { walletMessage } from "./errors.ts";

export type ContractCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] };

export type WriteState =
  | { step: "idle" }
  | { step: "checking" }
  | { step: "wallet" }
  | { step: "sent"; hash: Hash }
  | { step: "mined"; hash: Hash }
  | { step: "indexed"; hash: Hash; indexedMs: number }
  | { step: "slow"; hash: Hash }
  | { step: "error"; message: string };

const INDEX_POLL_MS = 150;
const INDEX_WAIT_MS = 60_000;

export function useChainWrite() {
  const { address } = useAccount();
  const publicClient = usePublicClient();
  const { data: walletClient } = useWalletClient();
  const [state, setState] = useState<WriteState>({ step: "idle" });

  const run = useCallback(
    async (call: ContractCall, isIndexed: () => Promise<boolean>): Promise<boolean> => {
      if (!publicClient || !walletClient || !address) {
        setState({ step: "error", message: "Connect your wallet first." });
        return false;
      }
      setState({ step: "checking" });
      let hash: Hash;
      try {
        // Refusals the contract would give (decoded into words) and the cost, before anything is sent.
        const { request } = await publicClient.simulateContract({ ...call, account: address } as never);
        const [gas, fees, balance] = await Promise.all([
          publicClient.estimateContractGas({ ...call, account: address } as never),
          publicClient.estimateFeesPerGas(),
          publicClient.getBalance({ address }),
        ]);
        const cost = gas * (fees.maxFeePerGas ?? fees.gasPrice ?? 0n);
        if (balance < cost) {
          setState({
            step: "error",
            message: `Not enough ether: this transaction costs up to ${formatEther(cost)} ETH in fees and your account holds ${formatEther(balance)} ETH. Add ether to the account, then try again.`,
          });
          return false;
        }
        setState({ step: "wallet" });
        hash = await walletClient.writeContract({ ...(request as object), gas } as never);
      } catch (error) {
        setState({ step: "error", message: walletMessage(error) });
        return false;
      }
      setState({ step: "sent", hash });
      try {
        const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
        if (receipt.status !== "success") {
          setState({ step: "error", message: "The transaction was mined but the contract refused it." });
          return false;
        }
      } catch (error) {
        setState({ step: "error", message: walletMessage(error) });
        return false;
      }
      setState({ step: "mined", hash });
      const minedAt = performance.now();
      while (performance.now() - minedAt < INDEX_WAIT_MS) {
        if (await isIndexed().catch(() => false)) {
          setState({ step: "indexed", hash, indexedMs: Math.round(performance.now() - minedAt) });
          return true;
        }
        await new Promise((resolve) => setTimeout(resolve, INDEX_POLL_MS));
      }
      setState({ step: "slow", hash });
      return true;
    },
    [address, publicClient, walletClient],
  );

  return { state, run, reset: () => setState({ step: "idle" }) };
}
