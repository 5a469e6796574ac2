// A doctor adds a record with an attached document: checked in the form, encrypted in this browser for the
// patient and the author (their registered keys), uploaded through the gateway, then `addRecord` with the
// ciphertext's hash from the wallet, whose states show until CareChain shows the record with its document.
import { recordRegistryAbi } from "@carechain/contracts/abis";
import { type RecordTypeName, recordTypes } from "@carechain/contracts/codes";
import { DocumentsRequestError } from "@carechain/documents/browser";
import { type FormEvent, useRef, useState } from "react";
import { type Address, bytesToHex, stringToHex } from "viem";
import { useAccount } from "wagmi";
import { documentMessage, uploadDocument } from "../documents.ts";
import { DocumentReadersQuery, PatientChartQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

/** Larger files than this are refused in the form: the page encrypts a document whole, in memory. */
export const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;

const typeLabel = (name: string) => {
  const words = name.replace(/([A-Z])/g, " $1").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function AddRecordForm({ patient, onAdded }: { patient: Address; onAdded: () => void }) {
  const { config, token } = useSession();
  const { address } = useAccount();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [recordType, setRecordType] = useState<RecordTypeName>("consultationNote");
  const [file, setFile] = useState<File>();
  const fileInput = useRef<HTMLInputElement>(null);
  const [phase, setPhase] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const busy = phase !== undefined || !["idle", "error", "indexed", "slow"].includes(write.state.step);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    write.reset();
    if (!address || !token) return;
    if (!file) return setFormError("Choose the document to attach.");
    if (file.size === 0) return setFormError("The document is empty: choose another file.");
    if (file.size > MAX_DOCUMENT_BYTES)
      return setFormError(`The document is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB.`);
    let uploaded: { contentHash: `0x${string}`; pointer: string };
    try {
      setPhase("Encrypting the document in your browser and uploading it…");
      const readers = await fetchGateway(DocumentReadersQuery, { patient, author: address });
      const patientKey = readers.data?.patient?.encryptionKey;
      const ownKey = readers.data?.doctor?.encryptionKey;
      if (!patientKey || !ownKey)
        return setFormError("You have no access to this patient's record (or no registered key).");
      uploaded = await uploadDocument(
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
        return setFormError("You may not add records for this patient: they have not allowed you to.");
      return setFormError(documentMessage(error));
    } finally {
      setPhase(undefined);
    }
    const recordId = bytesToHex(crypto.getRandomValues(new Uint8Array(32)));
    const done = await write.run(
      {
        address: config.contracts.recordRegistry,
        abi: recordRegistryAbi,
        functionName: "addRecord",
        // The pointer names the blob by its hash only: no personal data on chain.
        args: [
          patient,
          recordId,
          recordTypes[recordType],
          uploaded.contentHash,
          stringToHex(uploaded.pointer),
        ],
      },
      async () => {
        const answer = await fetchGateway(PatientChartQuery, { address: patient });
        return (
          answer.data?.patient?.records?.edges.some(
            (e) =>
              e.node.id.toLowerCase() === recordId && e.node.document?.contentHash === uploaded.contentHash,
          ) === true
        );
      },
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
              {typeLabel(name)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Document
        <input ref={fileInput} type="file" onChange={(e) => setFile(e.target.files?.[0])} />
      </label>
      <button type="submit" disabled={busy}>
        Add the record
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      {phase ? <Notice kind="info">{phase}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
