import { identityRegistryAbi } from "@carechain/contracts/abis";
import type { Address } from "viem";
import { AddressText } from "../components/address.tsx";
import { Notice } from "../components/notice.tsx";
import { PatientPicker } from "../components/patient-picker.tsx";
import { enumLabel } from "../components/record-list.tsx";
import { RelayRecords } from "../components/relay-records.tsx";
import { WriteStatus } from "../components/write-status.tsx";
import { DoctorDirectoryQuery, OrganizationHomeQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";

/**
 * An organization's page: the patients who gave it access (an insurer sees only what its grant allows), and
 * for a hospital the doctors to verify and the records its doctors signed for it to send.
 */
export default function OrganizationHome({ address }: { address: Address }) {
  const home = useGatewayQuery(OrganizationHomeQuery, { address });
  const organization = home.data?.data?.organization;
  return (
    <section aria-labelledby="organization-title">
      <h1 id="organization-title">My organization</h1>
      {home.error ? <Notice kind="error">{home.error.message}</Notice> : null}
      {organization ? <p>{enumLabel(organization.kind)}</p> : null}
      <h2>Patients who gave access</h2>
      <PatientPicker patients={organization ? (organization.patients ?? []) : undefined} />
      {organization?.kind === "HOSPITAL" ? <VerifyDoctors registrar={organization.registrar} /> : null}
      {organization?.kind === "HOSPITAL" ? <RelayRecords /> : null}
    </section>
  );
}

function VerifyDoctors({ registrar }: { registrar: boolean }) {
  const { config } = useSession();
  const directory = useGatewayQuery(DoctorDirectoryQuery, {});
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const busy = !["idle", "error", "indexed", "slow"].includes(write.state.step);
  const doctors = directory.data?.data?.doctors.edges.map((e) => e.node) ?? [];
  const verify = (doctor: Address) =>
    write.run(
      {
        address: config.contracts.identityRegistry,
        abi: identityRegistryAbi,
        functionName: "verifyDoctor",
        args: [doctor],
      },
      async () => {
        const answer = await fetchGateway(DoctorDirectoryQuery, {});
        const shown = answer.data?.doctors.edges.some(
          (e) => e.node.address.toLowerCase() === doctor.toLowerCase() && e.node.verified,
        );
        if (shown) await directory.refetch();
        return shown === true;
      },
    );
  return (
    <>
      <h2>Verify doctors</h2>
      {registrar ? null : (
        <Notice kind="info">
          This hospital is not a registrar yet: CareChain's operator (the owner of the identity registry)
          makes hospitals registrars. Until then it cannot verify doctors.
        </Notice>
      )}
      {doctors.length === 0 ? (
        <p>No doctor is registered yet.</p>
      ) : (
        <table className="doctors">
          <thead>
            <tr>
              <th scope="col">Doctor</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {doctors.map((doctor) => (
              <tr key={doctor.address}>
                <td>
                  <AddressText address={doctor.address} />
                </td>
                <td>
                  {doctor.verified ? (
                    "verified"
                  ) : (
                    <button
                      type="button"
                      disabled={!registrar || busy}
                      aria-label={`Verify ${doctor.address}`}
                      onClick={() => void verify(doctor.address)}
                    >
                      Verify
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <WriteStatus state={write.state} />
    </>
  );
}
