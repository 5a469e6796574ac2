// Who is alerted when a reading is out of range (`setAlertRecipients`: the whole list at once), shown and changed.
import { vitalsMonitorAbi } from "@carechain/contracts/abis";
import { type FormEvent, useState } from "react";
import { type Address, getAddress } from "viem";
import { DoctorDirectoryQuery, PatientControlsQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { AddressText } from "./address.tsx";
import { writeBusy } from "./grant-editor.tsx";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

/** The contract's bound (VitalsMonitor.MAX_RECIPIENTS). */
export const MAX_RECIPIENTS = 10;

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const lower = new Set(a.map((x) => x.toLowerCase()));
  return (
    lower.size === new Set(b.map((x) => x.toLowerCase())).size && b.every((x) => lower.has(x.toLowerCase()))
  );
};

export function AlertRecipients({ patient, grantees }: { patient: Address; grantees: Address[] }) {
  const { config } = useSession();
  const controls = useGatewayQuery(PatientControlsQuery, { address: patient });
  const directory = useGatewayQuery(DoctorDirectoryQuery, {});
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [chosen, setChosen] = useState("");
  const [formError, setFormError] = useState<string>();
  const current = controls.data?.data?.patient?.alertRecipients ?? [];
  const isCurrent = (a: string) => current.some((c) => c.toLowerCase() === a.toLowerCase());
  // Registered accounts only (the contract refuses others): the patient's grantees and the doctor directory.
  const candidates = [
    ...new Set(
      [...grantees, ...(directory.data?.data?.doctors.edges ?? []).map((e) => e.node.address)].map((a) =>
        getAddress(a),
      ),
    ),
  ].filter((a) => !isCurrent(a));

  const save = (recipients: Address[]) =>
    write.run(
      {
        address: config.contracts.vitalsMonitor,
        abi: vitalsMonitorAbi,
        functionName: "setAlertRecipients",
        args: [recipients],
      },
      async () => {
        const answer = await fetchGateway(PatientControlsQuery, { address: patient });
        const visible = sameSet(answer.data?.patient?.alertRecipients ?? [], recipients);
        if (visible) await controls.refetch();
        return visible;
      },
    );

  const add = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    if (!chosen) return setFormError("Choose who to alert.");
    if (current.length >= MAX_RECIPIENTS)
      return setFormError(`At most ${MAX_RECIPIENTS} people can be alerted: remove one first.`);
    if (await save([...current.map((a) => getAddress(a)), getAddress(chosen)])) setChosen("");
  };

  return (
    <form onSubmit={add} aria-labelledby="recipients-title" className="alert-recipients">
      <h2 id="recipients-title">Who is alerted</h2>
      {controls.error ? <Notice kind="error">{controls.error.message}</Notice> : null}
      {!controls.data ? (
        <p>Loading…</p>
      ) : current.length === 0 ? (
        <p>Nobody is alerted when a reading is out of range.</p>
      ) : (
        <ul>
          {current.map((recipient) => (
            <li key={recipient}>
              <AddressText address={recipient} />{" "}
              <button
                type="button"
                disabled={writeBusy(write.state)}
                aria-label={`Stop alerting ${recipient}`}
                onClick={() => void save(current.filter((c) => c !== recipient).map((a) => getAddress(a)))}
              >
                Stop alerting
              </button>
            </li>
          ))}
        </ul>
      )}
      <label htmlFor="recipient-add">Alert also</label>
      <select id="recipient-add" value={chosen} onChange={(e) => setChosen(e.target.value)}>
        <option value="">Choose a doctor or someone with access…</option>
        {candidates.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      <button type="submit" disabled={writeBusy(write.state)}>
        Add to the alerts
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
