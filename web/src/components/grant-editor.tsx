// Changing an existing grant's scopes and expiry (`changeAccess`), and what the grant form shares with it.
import { consentManagerAbi } from "@carechain/contracts/abis";
import { type ScopeName, scopes } from "@carechain/contracts/codes";
import { type FormEvent, useState } from "react";
import type { Address } from "viem";
import { PatientHomeQuery } from "../graphql/operations.ts";
import { useGatewayFetch, useGatewayQuery } from "../graphql/use-query.ts";
import { useSession } from "../session.tsx";
import { useChainWrite, type WriteState } from "../wallet/write.ts";
import { Notice } from "./notice.tsx";
import { WriteStatus } from "./write-status.tsx";

export const scopeLabels: Record<ScopeName, string> = {
  READ_RECORDS: "read my records",
  WRITE_RECORDS: "add records",
  READ_VITALS: "read my vitals",
};

/** A write is under way (its button stays disabled) until it ends one way or the other. */
export const writeBusy = (state: WriteState) => !["idle", "error", "indexed", "slow"].includes(state.step);

/** A date input's value as the chain's expiry: the end of that day, local time; 0 (no expiry) when empty. */
export function expirySeconds(date: string): number {
  return date ? Math.floor(Date.parse(`${date}T23:59:59`) / 1000) : 0;
}

/** Why the terms would be refused, checked in the form before anything is sent (the contract's rule). */
export function termsProblem(chosen: ScopeName[], expiresAt: number, nowMs = Date.now()): string | undefined {
  if (chosen.length === 0) return "Choose at least one thing the doctor may do.";
  if (Number.isNaN(expiresAt)) return "The expiry is not a date.";
  if (expiresAt !== 0 && expiresAt * 1000 <= nowMs) return "The expiry must be in the future.";
  return undefined;
}

export const scopeMask = (chosen: ScopeName[]) => chosen.reduce((m, s) => m | scopes[s], 0);

/** The scope checkboxes of a grant, for giving and for changing one. */
export function ScopeChoice({
  legend,
  chosen,
  onChange,
}: {
  legend: string;
  chosen: ScopeName[];
  onChange: (chosen: ScopeName[]) => void;
}) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {(Object.keys(scopeLabels) as ScopeName[]).map((scope) => (
        <label key={scope}>
          <input
            type="checkbox"
            checked={chosen.includes(scope)}
            onChange={(e) =>
              onChange(e.target.checked ? [...chosen, scope] : chosen.filter((s) => s !== scope))
            }
          />{" "}
          {scopeLabels[scope]}
        </label>
      ))}
    </fieldset>
  );
}

/** The yyyy-mm-dd a date input shows for an expiry, in local time. */
function dateInputValue(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function GrantEditor({
  patient,
  grant,
  onClose,
}: {
  patient: Address;
  grant: { grantee: Address; scopes: string[]; expiresAt?: string | null };
  onClose: () => void;
}) {
  const { config } = useSession();
  const home = useGatewayQuery(PatientHomeQuery, { address: patient });
  const fetchGateway = useGatewayFetch();
  const write = useChainWrite();
  const [chosen, setChosen] = useState<ScopeName[]>(
    grant.scopes.filter((s): s is ScopeName => s in scopeLabels),
  );
  const [expiry, setExpiry] = useState(dateInputValue(grant.expiresAt));
  const [formError, setFormError] = useState<string>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const expiresAt = expirySeconds(expiry);
    const problem = termsProblem(chosen, expiresAt);
    setFormError(problem);
    if (problem) return;
    const mask = scopeMask(chosen);
    await write.run(
      {
        address: config.contracts.consentManager,
        abi: consentManagerAbi,
        functionName: "changeAccess",
        args: [grant.grantee, mask, BigInt(expiresAt)],
      },
      async () => {
        const answer = await fetchGateway(PatientHomeQuery, { address: patient });
        const changed = answer.data?.patient?.grants?.find(
          (g) => g.grantee.toLowerCase() === grant.grantee.toLowerCase(),
        );
        const shown =
          changed !== undefined &&
          scopeMask(changed.scopes as ScopeName[]) === mask &&
          (changed.expiresAt ? Math.floor(Date.parse(changed.expiresAt) / 1000) : 0) === expiresAt;
        if (shown) await home.refetch();
        return shown;
      },
    );
  };

  const id = `change-${grant.grantee}`;
  return (
    <form onSubmit={submit} aria-labelledby={id} className="grant-editor">
      <h3 id={id}>Change this access</h3>
      <ScopeChoice legend="The grantee may" chosen={chosen} onChange={setChosen} />
      <label>
        Until (empty: no expiry)
        <input type="date" value={expiry} onChange={(e) => setExpiry(e.target.value)} />
      </label>
      <button type="submit" disabled={writeBusy(write.state)}>
        Save the change
      </button>{" "}
      <button type="button" onClick={onClose} disabled={writeBusy(write.state)}>
        Close
      </button>
      {formError ? <Notice kind="error">{formError}</Notice> : null}
      <WriteStatus state={write.state} />
    </form>
  );
}
