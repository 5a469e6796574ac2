import type { Address } from "viem";
import { PatientAccessLogQuery } from "../graphql/operations.ts";
import { useGatewayQuery } from "../graphql/use-query.ts";
import { AddressText } from "./address.tsx";
import { Notice } from "./notice.tsx";
import { enumLabel } from "./record-list.tsx";

/** Who read what of the patient's data, newest first, and under which rule: the gateway's audit log. */
export function AccessLog({ patient }: { patient: Address }) {
  const log = useGatewayQuery(PatientAccessLogQuery, { address: patient });
  const entries = log.data?.data?.patient?.accessLog?.edges.map((edge) => edge.node);
  return (
    <>
      <h2 id="access-log-title">Who read my record</h2>
      {log.error ? <Notice kind="error">{log.error.message}</Notice> : null}
      {entries === undefined ? (
        log.error ? null : (
          <p>Loading…</p>
        )
      ) : entries.length === 0 ? (
        <p>Nobody else has read your record yet.</p>
      ) : (
        <table className="access-log" aria-labelledby="access-log-title">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Allowed by</th>
              <th scope="col">How</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => (
              <tr key={entry.id}>
                <td>{new Date(entry.at).toLocaleString()}</td>
                <td>
                  <AddressText address={entry.viewer} />
                </td>
                <td>{enumLabel(entry.what)}</td>
                <td>{entry.rule === "EMERGENCY" ? "Emergency access" : enumLabel(entry.rule)}</td>
                <td>{enumLabel(entry.channel)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
