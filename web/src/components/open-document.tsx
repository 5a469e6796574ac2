// Opens a record's document in the browser: the hash from the chain (RecordRegistry.recordOf; the indexed
// hash when the chain does not answer), the ciphertext from the gateway, refused unless it has that hash,
// then decrypted with the key derived from the wallet's signature. Nothing readable leaves the browser.
import { recordRegistryAbi } from "@carechain/contracts/abis";
import { useEffect, useState } from "react";
import type { Address, Hex } from "viem";
import { useAccount, usePublicClient, useSignMessage } from "wagmi";
import { documentMessage, openDocument } from "../documents.ts";
import { useSession } from "../session.tsx";
import { deriveEncryptionKey } from "../wallet/encryption-key.ts";
import { walletMessage } from "../wallet/errors.ts";
import { Notice } from "./notice.tsx";

export type RecordWithDocument = {
  id: string;
  contentHash: string;
  document?: { contentHash: string; size: number } | null;
};

type OpenState =
  | { step: "idle" }
  | { step: "busy"; what: string }
  | { step: "open"; url: string; bytes: number; checkedOn: "chain" | "index" }
  | { step: "error"; message: string };

export function OpenDocument({ record, patient }: { record: RecordWithDocument; patient: Address }) {
  const { config, token } = useSession();
  const { address } = useAccount();
  const publicClient = usePublicClient();
  const { signMessageAsync } = useSignMessage();
  const [state, setState] = useState<OpenState>({ step: "idle" });
  const url = state.step === "open" ? state.url : undefined;
  useEffect(() => (url ? () => URL.revokeObjectURL(url) : undefined), [url]);

  const open = async () => {
    if (!address || !token) return;
    setState({ step: "busy", what: "Reading the record's hash on chain…" });
    let contentHash = record.contentHash as Hex;
    let checkedOn: "chain" | "index" = "index";
    try {
      const onChain = await publicClient?.readContract({
        address: config.contracts.recordRegistry,
        abi: recordRegistryAbi,
        functionName: "recordOf",
        args: [record.id as Hex],
      });
      if (onChain) {
        if (onChain[0].toLowerCase() !== patient.toLowerCase())
          return setState({ step: "error", message: "The chain has no such record of this patient." });
        contentHash = onChain[3];
        checkedOn = "chain";
      }
    } catch {
      // The chain did not answer: the gateway's indexed hash still refuses bytes the store changed.
    }
    let secretKey: Uint8Array;
    try {
      setState({ step: "busy", what: "Waiting for your wallet: sign to unlock your document key." });
      ({ secretKey } = await deriveEncryptionKey(address, (message) => signMessageAsync({ message })));
    } catch (error) {
      return setState({ step: "error", message: walletMessage(error) });
    }
    try {
      setState({ step: "busy", what: "Downloading, checking and decrypting in your browser…" });
      const plain = await openDocument(
        { gatewayUrl: config.gatewayUrl, token },
        { contentHash, reader: address, secretKey },
      );
      const url = URL.createObjectURL(new Blob([plain as Uint8Array<ArrayBuffer>]));
      setState({ step: "open", url, bytes: plain.length, checkedOn });
    } catch (error) {
      setState({ step: "error", message: documentMessage(error) });
    }
  };

  switch (state.step) {
    case "idle":
      return (
        <button type="button" onClick={() => void open()}>
          Open document
        </button>
      );
    case "busy":
      return <Notice kind="info">{state.what}</Notice>;
    case "open":
      return (
        <Notice kind="ok">
          <span data-document="verified">
            Matches the hash {state.checkedOn === "chain" ? "on chain" : "CareChain indexed"}, decrypted in
            your browser ({state.bytes} bytes).
          </span>{" "}
          <a href={state.url} download={`record-${record.id.slice(2, 10)}`}>
            Save the document
          </a>
        </Notice>
      );
    case "error":
      return <Notice kind="error">{state.message}</Notice>;
  }
}
