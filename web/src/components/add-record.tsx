// A doctor adds a record with an attached document: checked in the form, encrypted in this browser for the
// patient and the author (their registered keys), uploaded through the gateway, then `addRecord` with the
// ciphertext's hash from the wallet, whose states show until CareChain shows the record with its document;
// or, signed only (EIP-712), handed to the doctor's hospital, which sends it (relay-records.tsx).
import { recordRegistryAbi } from "@carechain/contracts/abis";
import { type RecordTypeName, recordTypes } from "@carechain/contracts/codes";
import { DocumentsRequestError } from "@carechain/documents/browser";
import { type FormEvent, useRef, useState } from "react";
import { type Address, bytesToHex, type Hex, stringToHex } from "viem";
import { useAccount } from "wagmi";
import { documentMessage, uploadDocument } from "../documents.ts";
import { DocumentReadersQuery, PatientChartQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { Notice } from "./notice.tsx";
import { recordTypeLabel } from "./record-list.tsx";
import { SignedAuthorization, useSignRecordAuthorization } from "./relay-records.tsx";
import { WriteStatus } from "./write-status.tsx";

/** Larger files than this are refused in the form: the page encrypts a document whole, in memory. */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;

/** A picked file checked in the form: a sentence when it cannot be sent, else undefined. */
export function documentProblem(file: File | undefined): string | undefined {
  if (!file) return "Choose the document to attach.";
  if (file.size === 0) return "The document is empty: choose another file.";
  if (file.size > MAX_DOCUMENT_BYTES)
    return `The document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB.`;
  return undefined;
}

export type UploadedDocument = { contentHash: Hex; pointer: string };

/**
 * Encrypts a document in this browser for the patient and the author (their registered keys) and uploads it:
 * what adding, amending and signing a record for the hospital share. Answers the upload or a sentence.
 */
export function useDocumentUpload(patient: Address) {
  const { config, token } = useSession();
  const { address } = useAccount();
  const fetchGateway = useGatewayFetch();
  return async (file: File): Promise<UploadedDocument | { error: string }> => {
    if (!address || !token) return { error: "Connect your wallet and sign in first." };
    try {
      const readers = await fetchGateway(DocumentReadersQuery, { patient, author: address });
      const patientKey = readers.data?.patient?.encryptionKey;
      const ownKey = readers.data?.doctor?.encryptionKey;
      if (!patientKey || !ownKey)
        return { error: "You have no access to this patient's record (or no registered key)." };
      return await uploadDocument(
        { gatewayUrl: config.gatewayUrl, token },
        {
          patient,
          plain: new Uint8Array(await file.arrayBuffer()),
          readers: [
            { address: patient, encryptionKey: patientKey },
            { address, encryptionKey: ownKey },
          ],
        },
      );
    } catch (error) {
      if (error instanceof DocumentsRequestError && error.code === "FORBIDDEN")
        return { error: "You may not add records for this patient: they have not allowed you to." };
      return { error: documentMessage(error) };
    }
  };
}

/** A fresh record id: random, so it says nothing about the patient. */
export const newRecordId = () => bytesToHex(crypto.getRandomValues(new Uint8Array(32)));

/** Visible in CareChain: the patient's chart lists `recordId` with the document's hash. */
export function useRecordShown(patient: Address) {
  const fetchGateway = useGatewayFetch();
  return async (recordId: Hex, contentHash: Hex) => {
    const answer = await fetchGateway(PatientChartQuery, { address: patient });
    return (
      answer.data?.patient?.records?.edges.some(
        (e) => e.node.id.toLowerCase() === recordId && e.node.document?.contentHash === contentHash,
      ) === true
    );
  };
}

export function AddRecordForm({ patient, onAdded }: { patient: Address; onAdded: () => void }) {
  const { config } = useSession();
  const { address } = useAccount();
  const upload = useDocumentUpload(patient);
  const recordShown = useRecordShown(patient);
  const signForHospital = useSignRecordAuthorization();
  const write = useChainWrite();
  const [recordType, setRecordType] = useState<RecordTypeName>("consultationNote");
  const [file, setFile] = useState<File>();
  const [viaHospital, setViaHospital] = useState(false);
  const [signed, setSigned] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);
  const [phase, setPhase] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const busy = phase !== undefined || !["idle", "error", "indexed", "slow"].includes(write.state.step);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    setSigned(undefined);
    write.reset();
    if (!address) return;
    const problem = documentProblem(file);
    if (problem || !file) return setFormError(problem);
    setPhase("Encrypting the document in your browser and uploading it…");
    const uploaded = await upload(file).finally(() => setPhase(undefined));
    if ("error" in uploaded) return setFormError(uploaded.error);
    const recordId = newRecordId();
    // The pointer names the blob by its hash only: no personal data on chain.
    const pointer = stringToHex(uploaded.pointer);
    if (viaHospital) {
      setPhase("Waiting for your wallet: sign the record for your hospital (no transaction).");
      const answer = await signForHospital({
        patient,
        recordId,
        recordType: recordTypes[recordType],
        contentHash: uploaded.contentHash,
        storagePointer: pointer,
      }).finally(() => setPhase(undefined));
      if ("error" in answer) return setFormError(answer.error);
      return setSigned(answer.json);
    }
    const done = await write.run(
      {
        address: config.contracts.recordRegistry,
        abi: recordRegistryAbi,
        functionName: "addRecord",
        args: [patient, recordId, recordTypes[recordType], uploaded.contentHash, pointer],
      },
      () => recordShown(recordId, uploaded.contentHash),
    );
    if (done) {
      if (fileInput.current) fileInput.current.value = ""; // the browser's own state: the chosen file
      setFile(undefined);
      onAdded();
    }
  };

  return (
    <form onSubmit={submit} aria-labelledby="add-record-title">
      <h2 id="add-record-title">Add a record</h2>
      <label>
        Record type
        <select value={recordType} onChange={(e) => setRecordType(e.target.value as RecordTypeName)}>
          {(Object.keys(recordTypes) as RecordTypeName[]).map((name) => (
            <option key={name} value={name}>
              {recordTypeLabel(name)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Document
        <input ref={fileInput} type="file" onChange={(e) => setFile(e.target.files?.[0])} />
      </label>
      <label>
        <input type="checkbox" checked={viaHospital} onChange={(e) => setViaHospital(e.target.checked)} />
        Sign only: my hospital sends it (no transaction, no ether needed)
      </label>
      <button type="submit" disabled={busy}>
        {viaHospital ? "Sign the record for my hospital" : "Add the record"}
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      {phase ? <Notice kind="info">{phase}</Notice> : null}
      {signed ? <SignedAuthorization json={signed} /> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
