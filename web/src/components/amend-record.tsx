// A doctor with the right to add records amends one: a new document, encrypted in this browser as a new
// record's is, then `amendRecord` on the latest version. Nothing is overwritten: the chain keeps every
// version, and the record lists show the amendment chain.
import { recordRegistryAbi } from "@carechain/contracts/abis";
import { type FormEvent, useState } from "react";
import { type Address, type Hex, stringToHex } from "viem";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { documentProblem, newRecordId, useDocumentUpload, useRecordShown } from "./add-record.tsx";
import { Notice } from "./notice.tsx";
import { enumLabel, type RecordItem } from "./record-list.tsx";
import { WriteStatus } from "./write-status.tsx";

export function AmendRecordForm({
  patient,
  record,
  onAmended,
  onCancel,
}: {
  patient: Address;
  record: RecordItem;
  onAmended: () => void;
  onCancel: () => void;
}) {
  const { config } = useSession();
  const upload = useDocumentUpload(patient);
  const recordShown = useRecordShown(patient);
  const write = useChainWrite();
  const [file, setFile] = useState<File>();
  const [phase, setPhase] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const busy = phase !== undefined || !["idle", "error", "indexed", "slow"].includes(write.state.step);
  const what = `${enumLabel(record.type).toLowerCase()} (version ${record.version})`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    write.reset();
    const problem = documentProblem(file);
    if (problem || !file) return setFormError(problem);
    setPhase("Encrypting the new document in your browser and uploading it…");
    const uploaded = await upload(file).finally(() => setPhase(undefined));
    if ("error" in uploaded) return setFormError(uploaded.error);
    const recordId = newRecordId();
    const done = await write.run(
      {
        address: config.contracts.recordRegistry,
        abi: recordRegistryAbi,
        functionName: "amendRecord",
        args: [record.id as Hex, recordId, uploaded.contentHash, stringToHex(uploaded.pointer)],
      },
      () => recordShown(recordId, uploaded.contentHash),
    );
    if (done) onAmended();
  };

  return (
    <form onSubmit={submit} aria-labelledby="amend-record-title" className="amend">
      <h2 id="amend-record-title">Amend the {what}</h2>
      <p>The amendment is a new version with a new document; the earlier versions stay readable.</p>
      <label>
        New document
        <input type="file" onChange={(e) => setFile(e.target.files?.[0])} />
      </label>
      <button type="submit" disabled={busy}>
        Amend the record
      </button>{" "}
      <button type="button" onClick={onCancel} disabled={busy}>
        Cancel
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      {phase ? <Notice kind="info">{phase}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
