// Break-glass: a verified doctor opens time-limited read access to a patient who gave none, with a reason.
// The chain gets the reason's salted hash only; the reason and its salt stay in this browser, so the doctor
// can show them to whoever audits the access. Every read under it is audited as emergency access.
import { consentManagerAbi } from "@carechain/contracts/abis";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { Address } from "viem";
import { useAccount, usePublicClient } from "wagmi";
import { PatientChartQuery } from "../graphql/operations.ts";
import { useGatewayFetch } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { hashReason } from "../wallet/profile.ts";
import { useChainWrite } from "../wallet/write.ts";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

/** Hours a doctor may pick; the contract refuses more than 24 (MAX_EMERGENCY_DURATION). */
const DURATION_HOURS = [1, 4, 12, 24] as const;
const MIN_REASON_LENGTH = 10;

export function EmergencyAccessForm({ patient, onOpened }: { patient: Address; onOpened: () => void }) {
  const { config } = useSession();
  const { address } = useAccount();
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [reason, setReason] = useState("");
  const [hours, setHours] = useState<number>(1);
  const [formError, setFormError] = useState<string>();
  const busy = !["idle", "error", "indexed", "slow"].includes(write.state.step);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFormError(undefined);
    write.reset();
    if (!address) return;
    if (reason.trim().length < MIN_REASON_LENGTH)
      return setFormError(`Say why you need emergency access (at least ${MIN_REASON_LENGTH} characters).`);
    const { hash, salt } = hashReason(reason.trim());
    localStorage.setItem(
      `carechain.emergency.${address.toLowerCase()}.${patient.toLowerCase()}.${hash}`,
      JSON.stringify({ reason: reason.trim(), salt }),
    );
    const done = await write.run(
      {
        address: config.contracts.consentManager,
        abi: consentManagerAbi,
        functionName: "openEmergencyAccess",
        args: [patient, hash, BigInt(hours * 3600)],
      },
      // Visible in CareChain: the gateway now lets this doctor read the chart.
      async () => Boolean((await fetchGateway(PatientChartQuery, { address: patient })).data?.patient),
    );
    if (done) onOpened();
  };

  return (
    <form onSubmit={submit} aria-labelledby="emergency-title" className="emergency">
      <h2 id="emergency-title">Emergency access</h2>
      <p>
        In an emergency, a verified doctor may read this patient's records and vitals without their consent,
        for at most 24 hours. The patient sees every read in their access log as emergency access, and can
        close it.
      </p>
      <label>
        Reason (kept in this browser; only its salted hash goes on chain)
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={3} />
      </label>
      <label>
        Duration
        <select value={hours} onChange={(e) => setHours(Number(e.target.value))}>
          {DURATION_HOURS.map((h) => (
            <option key={h} value={h}>
              {h} {h === 1 ? "hour" : "hours"}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" disabled={busy}>
        Open emergency access
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}

/**
 * Says when this doctor reads the chart under an open emergency access, and until when. Read on chain
 * (`emergencyAccessUntil`, against the latest block's time): the gateway shows open emergency accesses to
 * the patient only, and the chain also knows when the patient closed one early.
 */
export function EmergencyAccessUntil({ patient, refresh }: { patient: Address; refresh: unknown }) {
  const { config } = useSession();
  const { address } = useAccount();
  const publicClient = usePublicClient();
  const until = useQuery({
    queryKey: ["emergencyAccessUntil", patient, address, refresh],
    enabled: Boolean(address && publicClient),
    retry: false,
    queryFn: async () => {
      const [openUntil, block] = await Promise.all([
        publicClient!.readContract({
          address: config.contracts.consentManager,
          abi: consentManagerAbi,
          functionName: "emergencyAccessUntil",
          args: [patient, address!],
        }),
        publicClient!.getBlock(),
      ]);
      return openUntil > block.timestamp ? Number(openUntil) : null;
    },
  });
  if (!until.data) return null;
  return (
    <Notice kind="info">
      <span data-emergency-until={until.data}>
        You read this chart under <strong>emergency access</strong>, open until{" "}
        {new Date(until.data * 1000).toLocaleString()}. The patient sees every read in their access log.
      </span>
    </Notice>
  );
}
