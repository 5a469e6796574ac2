// The blood-pressure range outside which a reading raises an alert (`setVitalsRange`), shown and changed.
import { vitalsMonitorAbi } from "@carechain/contracts/abis";
import { type FormEvent, useState } from "react";
import type { Address } from "viem";
import { PatientControlsQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite } from "../wallet/write.ts";
import { writeBusy } from "./grant-editor.tsx";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

export type Range = { systolicMin: number; systolicMax: number; diastolicMin: number; diastolicMax: number };
const fields = ["systolicMin", "systolicMax", "diastolicMin", "diastolicMax"] as const;
const labels: Record<keyof Range, string> = {
  systolicMin: "Systolic at least",
  systolicMax: "Systolic at most",
  diastolicMin: "Diastolic at least",
  diastolicMax: "Diastolic at most",
};
/** The contract's bound (VitalsMonitor.MAX_PRESSURE). */
const MAX_PRESSURE = 300;

/** The range from the form's text, or why the contract would refuse it (its rule, checked before sending). */
export function parseRange(text: Record<keyof Range, string>): Range | string {
  const range = {} as Range;
  for (const field of fields) {
    const value = Number(text[field]);
    if (text[field].trim() === "" || !Number.isInteger(value) || value < 1 || value > MAX_PRESSURE)
      return `${labels[field]}: a whole number of mmHg from 1 to ${MAX_PRESSURE}.`;
    range[field] = value;
  }
  if (range.systolicMin >= range.systolicMax) return "The systolic lower bound must be below the upper one.";
  if (range.diastolicMin >= range.diastolicMax)
    return "The diastolic lower bound must be below the upper one.";
  return range;
}

const sameRange = (a: Range | null | undefined, b: Range) => fields.every((f) => a?.[f] === b[f]);

export function VitalsRangeForm({ patient }: { patient: Address }) {
  const { config } = useSession();
  const controls = useGatewayQuery(PatientControlsQuery, { address: patient });
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const current = controls.data?.data?.patient?.vitalsRange;
  const [text, setText] = useState<Record<keyof Range, string>>();
  const [formError, setFormError] = useState<string>();
  // The form starts from the current range once it is known (empty while none is set).
  const shown =
    text ??
    (Object.fromEntries(fields.map((f) => [f, current ? String(current[f]) : ""])) as Record<
      keyof Range,
      string
    >);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const range = parseRange(shown);
    setFormError(typeof range === "string" ? range : undefined);
    if (typeof range === "string") return;
    await write.run(
      {
        address: config.contracts.vitalsMonitor,
        abi: vitalsMonitorAbi,
        functionName: "setVitalsRange",
        args: [patient, range.systolicMin, range.systolicMax, range.diastolicMin, range.diastolicMax],
      },
      async () => {
        const answer = await fetchGateway(PatientControlsQuery, { address: patient });
        const visible = sameRange(answer.data?.patient?.vitalsRange, range);
        if (visible) await controls.refetch();
        return visible;
      },
    );
  };

  return (
    <form onSubmit={submit} aria-labelledby="range-title" className="vitals-range">
      <h2 id="range-title">Blood-pressure range</h2>
      <p data-range="current">
        {!controls.data
          ? "Loading…"
          : current
            ? `Now: systolic ${current.systolicMin}–${current.systolicMax} mmHg, diastolic ${current.diastolicMin}–${current.diastolicMax} mmHg. A reading outside it raises an alert.`
            : "No range is set: readings raise no alert."}
      </p>
      {fields.map((field) => (
        <label key={field}>
          {labels[field]} (mmHg)
          <input
            type="number"
            inputMode="numeric"
            value={shown[field]}
            onChange={(e) => setText({ ...shown, [field]: e.target.value })}
          />
        </label>
      ))}
      <button type="submit" disabled={writeBusy(write.state)}>
        Set the range
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
