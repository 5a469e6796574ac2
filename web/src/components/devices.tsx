// The wearables that may report this patient's readings (`authorizeDevice`; `revokeDevice`: "Remove", so that
// it is not taken for a grant's Revoke), from `Patient.devices`: a device shows here once CareChain indexed
// it, as everything else on the page.
import { vitalsMonitorAbi } from "@carechain/contracts/abis";
import { type FormEvent, useState } from "react";
import { type Address, getAddress, isAddress, zeroAddress } from "viem";
import type { PatientControlsQuery as PatientControls } from "../graphql/generated/graphql.ts";
import { PatientControlsQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { AddressText } from "./address.tsx";
import { writeBusy } from "./grant-editor.tsx";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

/** The patient's authorized (not revoked) devices, lower case, as the gateway has indexed them. */
const activeDevices = (data: PatientControls | null | undefined) =>
  (data?.patient?.devices ?? []).filter((d) => d.revokedAt === null).map((d) => d.address.toLowerCase());

/** Why an address typed into the form cannot be authorized, checked before anything is sent. */
export function deviceProblem(text: string, patient: string, listed: string[]): string | undefined {
  const value = text.trim();
  if (!isAddress(value, { strict: false }))
    return "Enter the device's address: 0x and 40 hexadecimal digits (shown in the device's app).";
  const lower = value.toLowerCase();
  if (lower === zeroAddress) return "The zero address is not a device.";
  if (lower === patient.toLowerCase()) return "That is your own account, not a device.";
  if (listed.includes(lower)) return "This device is already authorized.";
  return undefined;
}

export function Devices({ patient }: { patient: Address }) {
  const { config } = useSession();
  const devices = useGatewayQuery(PatientControlsQuery, { address: patient });
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [text, setText] = useState("");
  const [formError, setFormError] = useState<string>();
  const listed = activeDevices(devices.data?.data);

  const change = (functionName: "authorizeDevice" | "revokeDevice", device: Address) =>
    write.run(
      { address: config.contracts.vitalsMonitor, abi: vitalsMonitorAbi, functionName, args: [device] },
      async () => {
        const now = activeDevices((await fetchGateway(PatientControlsQuery, { address: patient })).data);
        const visible = now.includes(device.toLowerCase()) === (functionName === "authorizeDevice");
        if (visible) await devices.refetch();
        return visible;
      },
    );

  const authorize = async (event: FormEvent) => {
    event.preventDefault();
    const problem = deviceProblem(text, patient, listed);
    setFormError(problem);
    if (problem) return;
    if (await change("authorizeDevice", getAddress(text.trim()))) setText("");
  };

  return (
    <form onSubmit={authorize} aria-labelledby="devices-title" className="devices">
      <h2 id="devices-title">My devices</h2>
      {devices.error ? <Notice kind="error">{devices.error.message}</Notice> : null}
      {!devices.data ? (
        devices.error ? null : (
          <p>Loading…</p>
        )
      ) : listed.length === 0 ? (
        <p>No device may report your readings.</p>
      ) : (
        <ul>
          {listed.map((device) => (
            <li key={device}>
              <AddressText address={device} />{" "}
              <button
                type="button"
                disabled={writeBusy(write.state)}
                aria-label={`Remove device ${device}`}
                onClick={() => void change("revokeDevice", getAddress(device))}
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <label>
        Device address
        <input
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="0x…"
          spellCheck={false}
          autoComplete="off"
        />
      </label>
      <button type="submit" disabled={writeBusy(write.state)}>
        Authorize the device
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
