import type { Address } from "viem";
import type { RecordFieldsFragment } from "../graphql/generated/graphql.ts";
import { AddressText } from "./address.tsx";
import { OpenDocument } from "./open-document.tsx";

/** A record as the lists show it: its latest version and its amendment chain (the RecordFields fragment). */
export type RecordItem = RecordFieldsFragment;
type RecordVersion = RecordItem["versions"][number];

/** An enum value for reading: CONSULTATION_NOTE -> Consultation note. */
export const enumLabel = (value: string) =>
  value.charAt(0) + value.slice(1).toLowerCase().replaceAll("_", " ");

/** A record type's code name for reading: consultationNote -> Consultation note. */
export const recordTypeLabel = (name: string) => {
  const words = name.replace(/([A-Z])/g, " $1").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** The author, and the hospital that sent it when it was relayed (EIP-712). */
function Authorship({ record }: { record: RecordVersion }) {
  return (
    <>
      <AddressText address={record.author} />
      {record.submitter.toLowerCase() !== record.author.toLowerCase() ? (
        <>
          {" "}
          (sent by <AddressText address={record.submitter} />)
        </>
      ) : null}
    </>
  );
}

/** Earlier versions of an amended record, oldest first, each with its own document. */
function AmendmentChain({ record, patient }: { record: RecordItem; patient: Address }) {
  const earlier = record.versions.filter((v) => v.id !== record.id);
  if (earlier.length === 0) return null;
  return (
    <details className="amendments">
      <summary>
        Amends {earlier.length} earlier {earlier.length === 1 ? "version" : "versions"}
      </summary>
      <ol>
        {earlier.map((version) => (
          <li key={version.id} data-version={version.version}>
            Version {version.version}, {new Date(version.addedAt).toLocaleString()}, by{" "}
            <Authorship record={version} />
            {version.document ? <OpenDocument record={version} patient={patient} /> : " (no document)"}
          </li>
        ))}
      </ol>
    </details>
  );
}

export function RecordList({
  records,
  patient,
  onAmend,
}: {
  records: RecordItem[];
  patient: Address;
  /** Offered to an author with the right to add records: amend this record's latest version. */
  onAmend?: (record: RecordItem) => void;
}) {
  if (records.length === 0) return <p>No records yet.</p>;
  return (
    <table className="records">
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Added</th>
          <th scope="col">Author</th>
          <th scope="col">Version</th>
          <th scope="col">Document</th>
          {onAmend ? <th scope="col">Amend</th> : null}
        </tr>
      </thead>
      <tbody>
        {records.map((record) => (
          <tr key={record.id}>
            <td>{enumLabel(record.type)}</td>
            <td>{new Date(record.addedAt).toLocaleString()}</td>
            <td>
              <Authorship record={record} />
            </td>
            <td>
              {record.version}
              <AmendmentChain record={record} patient={patient} />
            </td>
            <td>{record.document ? <OpenDocument record={record} patient={patient} /> : "none"}</td>
            {onAmend ? (
              <td>
                <button
                  type="button"
                  aria-label={`Amend the ${enumLabel(record.type).toLowerCase()} of ${new Date(record.addedAt).toLocaleString()}`}
                  onClick={() => onAmend(record)}
                >
                  Amend
                </button>
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
