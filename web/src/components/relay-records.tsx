// EIP-712 relay: the doctor signs a record authorization in the wallet (eth_signTypedData_v4: no transaction,
// no ether) and hands its text to their hospital, whose page checks it and sends it with `addRecordBySig`.
// The text travels from person to person (copied, pasted): no server of ours holds it.
import { recordRegistryAbi } from "@carechain/contracts/abis";
import { recordTypes } from "@carechain/contracts/codes";
import { recordAuthorizationTypedData } from "@carechain/contracts/record-authorization";
import { type FormEvent, useRef, useState } from "react";
import type { Address, Hex, PublicClient } from "viem";
import { useAccount, usePublicClient, useSignTypedData } from "wagmi";
import { PatientChartQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { walletMessage } from "../wallet/errors.ts";
import { useChainWrite } from "../wallet/write.ts";
import { AddressText } from "./address.tsx";
import { Notice } from "./notice.tsx";
import { recordTypeLabel } from "./record-list.tsx";
import {
  AuthorizationTextError,
  parseSignedAuthorization,
  serializeSignedAuthorization,
} from "./signed-authorization.ts";
import { WriteStatus } from "./write-status.tsx";

/** How long the hospital has to relay a signature. */
const VALID_SECONDS = 24n * 3600n;
const ZERO_ID = `0x${"0".repeat(64)}` as Hex;

type Unsigned = {
  patient: Address;
  recordId: Hex;
  recordType: number;
  contentHash: Hex;
  storagePointer: Hex;
  previousRecordId?: Hex;
};

/** The author's next nonce on chain and the latest block's time: what a signature is made and checked against. */
async function nonceAndTime(client: PublicClient, recordRegistry: Address, author: Address) {
  const [nonce, block] = await Promise.all([
    client.readContract({
      address: recordRegistry,
      abi: recordRegistryAbi,
      functionName: "nonces",
      args: [author],
    }),
    client.getBlock(),
  ]);
  return { nonce, now: block.timestamp };
}

/** Signs a record authorization as the connected doctor: their next nonce on chain, valid for 24 hours. */
export function useSignRecordAuthorization() {
  const { config } = useSession();
  const { address } = useAccount();
  const publicClient = usePublicClient();
  const { signTypedDataAsync } = useSignTypedData();
  return async (record: Unsigned): Promise<{ json: string } | { error: string }> => {
    if (!address || !publicClient) return { error: "Connect your wallet first." };
    try {
      const { nonce, now } = await nonceAndTime(publicClient, config.contracts.recordRegistry, address);
      const authorization = {
        ...record,
        previousRecordId: record.previousRecordId ?? ZERO_ID,
        author: address,
        nonce,
        deadline: now + VALID_SECONDS,
      };
      const domain = { chainId: config.chainId, recordRegistry: config.contracts.recordRegistry };
      const signature = await signTypedDataAsync(
        recordAuthorizationTypedData(domain.chainId, domain.recordRegistry, authorization),
      );
      return { json: serializeSignedAuthorization(domain, { authorization, signature }) };
    } catch (error) {
      return { error: walletMessage(error) };
    }
  };
}

/** The doctor's signed authorization, to copy and give to the hospital. */
export function SignedAuthorization({ json }: { json: string }) {
  const [copied, setCopied] = useState<string>();
  const copy = () =>
    navigator.clipboard.writeText(json).then(
      () => setCopied("Copied."),
      () => setCopied("Your browser did not allow copying: select the text and copy it."),
    );
  return (
    <Notice kind="ok">
      <span data-signed="authorization">
        Signed in your wallet: nothing was sent to the chain. Give this text to your hospital; its page sends
        the record within 24 hours. Sign one record at a time: each signature uses your next number (nonce).
      </span>
      <label>
        Signed record authorization
        <textarea readOnly value={json} rows={8} className="signed-authorization" />
      </label>
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>{" "}
      {copied}
    </Notice>
  );
}

type Checked = Awaited<ReturnType<typeof parseSignedAuthorization>>;

const typeName = (code: number) =>
  recordTypeLabel(Object.entries(recordTypes).find(([, value]) => value === code)?.[0] ?? `type ${code}`);

/** A hospital pastes a doctor's signed authorization, checks it, and sends it (`addRecordBySig`). */
export function RelayRecords() {
  const { config } = useSession();
  const publicClient = usePublicClient();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [text, setText] = useState("");
  const [checked, setChecked] = useState<Checked>();
  const [formError, setFormError] = useState<string>();
  // Set when the gateway refuses this hospital the patient's records: the page cannot see the record shown.
  const unseen = useRef(false);
  const busy = !["idle", "error", "indexed", "slow"].includes(write.state.step);

  const check = async (event: FormEvent) => {
    event.preventDefault();
    setChecked(undefined);
    setFormError(undefined);
    write.reset();
    try {
      const signed = await parseSignedAuthorization(text.trim(), {
        chainId: config.chainId,
        recordRegistry: config.contracts.recordRegistry,
      });
      const { author, nonce, deadline } = signed.authorization;
      if (publicClient) {
        const onChain = await nonceAndTime(publicClient, config.contracts.recordRegistry, author);
        const expected = onChain.nonce;
        if (deadline < onChain.now)
          return setFormError("This authorization has expired: ask the doctor to sign the record again.");
        if (nonce !== expected)
          return setFormError(
            nonce < expected
              ? "This authorization was already used (relayed, or replaced by a newer signature): nothing to send."
              : "The doctor signed another record first: relay that one before this one.",
          );
      }
      setChecked(signed);
    } catch (error) {
      setFormError(error instanceof AuthorizationTextError ? error.message : walletMessage(error));
    }
  };

  const relay = async () => {
    if (!checked) return;
    unseen.current = false;
    const { patient, recordId } = checked.authorization;
    await write.run(
      {
        address: config.contracts.recordRegistry,
        abi: recordRegistryAbi,
        functionName: "addRecordBySig",
        args: [checked.authorization, checked.signature],
      },
      async () => {
        const answer = await fetchGateway(PatientChartQuery, { address: patient });
        const records = answer.data?.patient?.records;
        if (!records) {
          unseen.current = true;
          return true;
        }
        return records.edges.some((e) => e.node.id.toLowerCase() === recordId.toLowerCase());
      },
    );
  };

  const a = checked?.authorization;
  return (
    <form onSubmit={check} aria-labelledby="relay-title" className="relay">
      <h2 id="relay-title">Relay a doctor's signed record</h2>
      <p>
        A doctor signs a record in their wallet and gives you the text; this hospital sends it and pays the
        transaction. The record stays the doctor's: the chain checks their signature and their access.
      </p>
      <label>
        Signed record authorization
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={6} />
      </label>
      <button type="submit" disabled={busy}>
        Check the signature
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      {a ? (
        <div className="relay-checked">
          <Notice kind="ok">
            <span data-relay="checked">
              Signed by doctor <AddressText address={a.author} /> for patient{" "}
              <AddressText address={a.patient} />: {a.previousRecordId === ZERO_ID ? "a new" : "an amended"}{" "}
              {typeName(a.recordType).toLowerCase()} record, to send before{" "}
              {new Date(Number(a.deadline) * 1000).toLocaleString()}.
            </span>
          </Notice>
          <button type="button" disabled={busy} onClick={() => void relay()}>
            Relay the record
          </button>
        </div>
      ) : null}
      {write.state.step === "indexed" && unseen.current ? (
        <Notice kind="ok">
          <span data-write-state="mined-unseen">
            Sent and mined: the record is on chain. This hospital may not read this patient's records, so this
            page cannot show it; the patient and the doctor see it in CareChain.
          </span>
        </Notice>
      ) : (
        <WriteStatus state={write.state} />
      )}
    </form>
  );
}
