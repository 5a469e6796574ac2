// The emergency (break-glass) accesses doctors opened to this patient, each closable (`closeEmergencyAccess`).
import { consentManagerAbi } from "@carechain/contracts/abis";
import type { Address } from "viem";
import { PatientControlsQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { AddressText } from "./address.tsx";
import { writeBusy } from "./grant-editor.tsx";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

export function EmergencyList({ patient }: { patient: Address }) {
  const { config } = useSession();
  const controls = useGatewayQuery(PatientControlsQuery, { address: patient });
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  // Only the open ones: the gateway leaves out those that lapsed (by the chain's time, not this browser's).
  const open = controls.data?.data?.patient?.emergencyAccesses ?? [];
  const close = (doctor: Address) =>
    write.run(
      {
        address: config.contracts.consentManager,
        abi: consentManagerAbi,
        functionName: "closeEmergencyAccess",
        args: [doctor],
      },
      async () => {
        const answer = await fetchGateway(PatientControlsQuery, { address: patient });
        const gone = !answer.data?.patient?.emergencyAccesses?.some(
          (e) => e.doctor.address.toLowerCase() === doctor.toLowerCase(),
        );
        if (gone) await controls.refetch();
        return gone;
      },
    );
  return (
    <section aria-labelledby="emergency-title" className="emergency-list">
      <h2 id="emergency-title">Emergency accesses</h2>
      {controls.error ? <Notice kind="error">{controls.error.message}</Notice> : null}
      {!controls.data ? (
        <p>Loading…</p>
      ) : open.length === 0 ? (
        <p>No doctor holds an open emergency access to your record.</p>
      ) : (
        <ul>
          {open.map((e) => (
            <li key={e.doctor.address}>
              Doctor <AddressText address={e.doctor.address} /> opened emergency access on{" "}
              {new Date(e.openedAt).toLocaleString()}, until {new Date(e.expiresAt).toLocaleString()}{" "}
              <button
                type="button"
                onClick={() => void close(e.doctor.address)}
                disabled={writeBusy(write.state)}
                aria-label={`Close the emergency access of ${e.doctor.address}`}
              >
                Close
              </button>
            </li>
          ))}
        </ul>
      )}
      <WriteStatus state={write.state} />
    </section>
  );
}
