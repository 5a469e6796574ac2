import { AddressText } from "./address.tsx";

type RecordItem = { id: string; type: string; author: string; version: number; addedAt: string };

/** An enum value for reading: CONSULTATION_NOTE -> Consultation note. */
export const enumLabel = (value: string) =>
  value.charAt(0) + value.slice(1).toLowerCase().replaceAll("_", " ");

export function RecordList({ records }: { records: RecordItem[] }) {
  if (records.length === 0) return <p>No records yet.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Type</th>
          <th scope="col">Added</th>
          <th scope="col">Author</th>
          <th scope="col">Version</th>
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
          </tr>
        ))}
      </tbody>
    </table>
  );
}
