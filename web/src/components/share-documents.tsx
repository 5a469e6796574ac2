// The patient shares its documents' keys with a grantee: a new document is wrapped for the patient and its
// author only, so a doctor granted READ_RECORDS later sees the records but opens none of their documents
// until the patient wraps each key for the doctor's registered encryption key (unwrapped and wrapped again
// in this browser; the gateway only stores the wrapped keys).
import { identityRegistryAbi } from "@carechain/contracts/abis";
import { useState } from "react";
import { type Address, getAddress, type Hex, zeroHash } from "viem";
import { usePublicClient, useSignMessage } from "wagmi";
import { documentMessage, shareDocuments } from "../documents.ts";
import { useSession } from "../session.tsx";
import { deriveEncryptionKey } from "../wallet/encryption-key.ts";
import { walletMessage } from "../wallet/errors.ts";
import { Notice } from "./notice.tsx";

export type ShareState =
  | { step: "idle" }
  | { step: "busy"; what: string }
  | { step: "sharing"; shared: number; total: number }
  | { step: "done"; shared: number }
  | { step: "error"; message: string };

/** Shares every document of `patient` (this account) with a grantee; its state for `ShareStatus`. */
export function useShareDocuments(patient: Address) {
  const { config, token } = useSession();
  const publicClient = usePublicClient();
  const { signMessageAsync } = useSignMessage();
  const [state, setState] = useState<ShareState>({ step: "idle" });

  const share = async (grantee: Address) => {
    if (!token || !publicClient) return setState({ step: "error", message: "Connect your wallet first." });
    const identity = { address: config.contracts.identityRegistry, abi: identityRegistryAbi } as const;
    let encryptionKey: Hex;
    let profileHash: Hex;
    try {
      setState({ step: "busy", what: "Reading the grantee's encryption key on chain…" });
      // The chain's registered key, not the indexed one: a key wrapped for a stale key opens nothing.
      [encryptionKey, profileHash] = await Promise.all([
        publicClient.readContract({ ...identity, functionName: "encryptionKeyOf", args: [grantee] }),
        publicClient.readContract({ ...identity, functionName: "profileHashOf", args: [patient] }),
      ]);
    } catch {
      return setState({ step: "error", message: "The chain did not answer: nothing was shared. Try again." });
    }
    if (encryptionKey === zeroHash)
      return setState({
        step: "error",
        message: `${getAddress(grantee)} has no encryption key registered in CareChain: nothing was shared. They must register one first.`,
      });
    let unlocking = false;
    const secretKey = async () => {
      unlocking = true;
      setState({ step: "busy", what: "Waiting for your wallet: sign to unlock your document keys." });
      const { secretKey } = await deriveEncryptionKey(patient, (message) => signMessageAsync({ message }));
      unlocking = false;
      return secretKey;
    };
    try {
      setState({ step: "busy", what: "Listing your documents…" });
      const shared = await shareDocuments(
        { gatewayUrl: config.gatewayUrl, token },
        {
          patient,
          secretKey,
          grantee: { address: grantee, encryptionKey },
          // The profile (name, contact) is the patient's alone, not a record's document.
          skip: (contentHash) => contentHash === profileHash.toLowerCase(),
          onProgress: ({ shared, total }) => setState({ step: "sharing", shared, total }),
        },
      );
      setState({ step: "done", shared: shared.length });
    } catch (error) {
      setState({
        step: "error",
        message: unlocking ? walletMessage(error) : `Sharing stopped: ${documentMessage(error)}`,
      });
    }
  };
  return { state, share, busy: state.step === "busy" || state.step === "sharing" };
}

export function ShareStatus({ state, grantee }: { state: ShareState; grantee: Address }) {
  switch (state.step) {
    case "idle":
      return null;
    case "busy":
      return <Notice kind="info">{state.what}</Notice>;
    case "sharing":
      return (
        <Notice kind="info">
          <span data-share="progress">
            {state.shared} of {state.total} documents shared…
          </span>
        </Notice>
      );
    case "done":
      return (
        <Notice kind="ok">
          <span data-share="done">
            {state.shared === 0
              ? "You have no documents to share yet."
              : `${state.shared} of ${state.shared} documents shared with ${getAddress(grantee)}.`}
          </span>
        </Notice>
      );
    case "error":
      return <Notice kind="error">{state.message}</Notice>;
  }
}
