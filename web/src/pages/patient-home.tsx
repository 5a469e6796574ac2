import { consentManagerAbi } from "@carechain/contracts/abis";
import type { ScopeName } from "@carechain/contracts/codes";
import { type FormEvent, useState } from "react";
import { type Address, getAddress } from "viem";
import { AccessLog } from "../components/access-log.tsx";
import { AddressText } from "../components/address.tsx";
import { AlertRecipients } from "../components/alert-recipients.tsx";
import { Devices } from "../components/devices.tsx";
import { EmergencyList } from "../components/emergency-list.tsx";
import {
  expirySeconds,
  GrantEditor,
  ScopeChoice,
  scopeLabels,
  scopeMask,
  termsProblem,
  writeBusy,
} from "../components/grant-editor.tsx";
import { LiveAlerts } from "../components/live-alerts.tsx";
import { Notice } from "../components/notice.tsx";
import { RecordList } from "../components/record-list.tsx";
import { ShareStatus, useShareDocuments } from "../components/share-documents.tsx";
import { VitalsRangeForm } from "../components/vitals-range.tsx";
import { WriteStatus } from "../components/write-status.tsx";
import { DoctorDirectoryQuery, PatientHomeQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";

export default function PatientHome({ address }: { address: Address }) {
  const { config } = useSession();
  const fetchGateway = useGatewayFetch();
  const home = useGatewayQuery(PatientHomeQuery, { address });
  const patient = home.data?.data?.patient;
  const revokeWrite = useChainWrite();
  const revoking = writeBusy(revokeWrite.state);
  const revoke = (grantee: Address) =>
    revokeWrite.run(
      {
        address: config.contracts.consentManager,
        abi: consentManagerAbi,
        functionName: "revokeAccess",
        args: [grantee],
      },
      async () => {
        const answer = await fetchGateway(PatientHomeQuery, { address });
        const gone = !answer.data?.patient?.grants?.some((g) => g.grantee === grantee);
        if (gone) await home.refetch();
        return gone;
      },
    );
  return (
    <section aria-labelledby="patient-title">
      <h1 id="patient-title">My health record</h1>
      {home.error ? <Notice kind="error">{home.error.message}</Notice> : null}
      <h2>Records</h2>
      {patient ? (
        <RecordList records={patient.records?.edges.map((e) => e.node) ?? []} patient={address} />
      ) : (
        <p>Loading…</p>
      )}
      <h2>Who can see my record</h2>
      {patient?.grants?.length ? (
        <ul className="grants">
          {patient.grants.map((grant) => (
            <GrantRow key={grant.grantee} patient={address} grant={grant} onRevoke={revoke} busy={revoking} />
          ))}
        </ul>
      ) : patient ? (
        <p>Nobody has access to your record.</p>
      ) : null}
      {/* Outside the list: the row goes away once the revocation is visible, its status must not. */}
      <WriteStatus state={revokeWrite.state} />
      <GrantForm patient={address} granted={patient?.grants?.map((g) => g.grantee.toLowerCase()) ?? []} />
      <EmergencyList patient={address} />
      <Devices patient={address} />
      <VitalsRangeForm patient={address} />
      <AlertRecipients patient={address} grantees={patient?.grants?.map((g) => g.grantee) ?? []} />
      <LiveAlerts patient={address} />
      <AccessLog patient={address} />
    </section>
  );
}

function GrantRow({
  patient,
  grant,
  onRevoke,
  busy,
}: {
  patient: Address;
  grant: { grantee: Address; granteeRole: string; scopes: string[]; expiresAt?: string | null };
  onRevoke: (grantee: Address) => Promise<boolean>;
  busy: boolean;
}) {
  const [editing, setEditing] = useState(false);
  const sharing = useShareDocuments(patient);
  return (
    <li>
      <AddressText address={grant.grantee} /> ({grant.granteeRole.toLowerCase()}):{" "}
      <span className="grant-terms">
        {grant.scopes.map((s) => scopeLabels[s as ScopeName] ?? s).join(", ")}
        {grant.expiresAt ? `, until ${new Date(grant.expiresAt).toLocaleDateString()}` : ", no expiry"}
      </span>{" "}
      <button type="button" onClick={() => void onRevoke(grant.grantee)} disabled={busy}>
        Revoke
      </button>{" "}
      <button type="button" onClick={() => setEditing(true)} disabled={busy || editing}>
        Change
      </button>
      {grant.scopes.includes("READ_RECORDS") ? (
        <>
          {" "}
          <button type="button" onClick={() => void sharing.share(grant.grantee)} disabled={sharing.busy}>
            Share documents
          </button>
          <ShareStatus state={sharing.state} grantee={grant.grantee} />
        </>
      ) : null}
      {editing ? <GrantEditor patient={patient} grant={grant} onClose={() => setEditing(false)} /> : null}
    </li>
  );
}

function GrantForm({ patient, granted }: { patient: Address; granted: string[] }) {
  const { config } = useSession();
  const directory = useGatewayQuery(DoctorDirectoryQuery, {});
  const home = useGatewayQuery(PatientHomeQuery, { address: patient });
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [doctor, setDoctor] = useState("");
  const [chosen, setChosen] = useState<ScopeName[]>(["READ_RECORDS", "READ_VITALS"]);
  const [expiry, setExpiry] = useState("");
  const [formError, setFormError] = useState<string>();
  // On by default: without the documents' keys a grant to read records opens none of their documents.
  const [shareAfter, setShareAfter] = useState(true);
  const [sharedWith, setSharedWith] = useState<Address>();
  const sharing = useShareDocuments(patient);
  const doctors = (directory.data?.data?.doctors.edges ?? [])
    .map((e) => e.node)
    .filter((d) => !granted.includes(d.address.toLowerCase()));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    if (!doctor) return setFormError("Choose a doctor.");
    const expiresAt = expirySeconds(expiry);
    const problem = termsProblem(chosen, expiresAt);
    if (problem) return setFormError(problem);
    const mask = scopeMask(chosen);
    const grantee = getAddress(doctor);
    const granted = await write.run(
      {
        address: config.contracts.consentManager,
        abi: consentManagerAbi,
        functionName: "grantAccess",
        args: [grantee, mask, BigInt(expiresAt)],
      },
      async () => {
        const answer = await fetchGateway(PatientHomeQuery, { address: patient });
        const shown = answer.data?.patient?.grants?.some(
          (g) => g.grantee.toLowerCase() === doctor.toLowerCase(),
        );
        if (shown) await home.refetch();
        return shown === true;
      },
    );
    if (granted && shareAfter && chosen.includes("READ_RECORDS")) {
      setSharedWith(grantee);
      await sharing.share(grantee);
    }
  };

  return (
    <form onSubmit={submit} aria-labelledby="grant-title">
      <h2 id="grant-title">Give a doctor access</h2>
      <label htmlFor="grant-doctor">Doctor</label>
      <select id="grant-doctor" value={doctor} onChange={(e) => setDoctor(e.target.value)}>
        <option value="">Choose from the directory…</option>
        {doctors.map((d) => (
          <option key={d.address} value={getAddress(d.address)}>
            {getAddress(d.address)} {d.verified ? "(verified)" : "(not verified)"}
          </option>
        ))}
      </select>
      <ScopeChoice legend="The doctor may" chosen={chosen} onChange={setChosen} />
      <label>
        Until (optional)
        <input type="date" value={expiry} onChange={(e) => setExpiry(e.target.value)} />
      </label>
      {chosen.includes("READ_RECORDS") ? (
        <label>
          <input type="checkbox" checked={shareAfter} onChange={(e) => setShareAfter(e.target.checked)} />{" "}
          Share my documents with the doctor
        </label>
      ) : null}
      <button type="submit" disabled={writeBusy(write.state) || sharing.busy}>
        Give access
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
      {sharedWith ? <ShareStatus state={sharing.state} grantee={sharedWith} /> : null}
    </form>
  );
}
