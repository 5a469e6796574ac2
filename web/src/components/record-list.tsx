import type { Address } from "viem";
import { AddressText } from "./address.tsx";
import { OpenDocument, type RecordWithDocument } from "./open-document.tsx";

type RecordItem = RecordWithDocument & { type: string; author: string; version: number; addedAt: string };

/** An enum value for reading: CONSULTATION_NOTE -> Consultation note. */
export const enumLabel = (value: string) =>
  value.charAt(0) + value.slice(1).toLowerCase().replaceAll("_", " ");

export function RecordList({ records, patient }: { records: RecordItem[]; patient: Address }) {
  if (records.length === 0) return <p>No records yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Added</th>
          <th scope="col">Author</th>
          <th scope="col">Version</th>
          <th scope="col">Document</th>
        </tr>
      </thead>
      <tbody>
        {records.map((record) => (
          <tr key={record.id}>
            <td>{enumLabel(record.type)}</td>
            <td>{new Date(record.addedAt).toLocaleString()}</td>
            <td>
              <AddressText address={record.author} />
            </td>
            <td>{record.version}</td>
            <td>{record.document ? <OpenDocument record={record} patient={patient} /> : "none"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
