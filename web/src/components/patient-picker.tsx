import { type FormEvent, useState } from "react";
import { isAddress } from "viem";
import { navigate } from "../router.ts";
import { AddressText } from "./address.tsx";
import { Notice } from "./notice.tsx";

/** The patients who gave this account access (links to their charts), and any other chart by address. */
export function PatientPicker({ patients }: { patients: { address: string }[] | null | undefined }) {
  const [other, setOther] = useState("");
  const [formError, setFormError] = useState<string>();
  const open = (event: FormEvent) => {
    event.preventDefault();
    if (!isAddress(other))
      return setFormError("Enter a patient's account address (0x followed by 40 hex digits).");
    navigate(`/patient/${other}`);
  };
  return (
    <>
      {patients?.length ? (
        <ul>
          {patients.map((p) => (
            <li key={p.address}>
              <a href={`#/patient/${p.address}`}>
                Patient <AddressText address={p.address} />
              </a>
            </li>
          ))}
        </ul>
      ) : patients ? (
        <p>No patient has given you access.</p>
      ) : null}
      <form onSubmit={open}>
        <label>
          Open a patient's chart by address
          <input value={other} onChange={(e) => setOther(e.target.value.trim())} placeholder="0x…" />
        </label>
        <button type="submit">Open</button>
        {formError ? <Notice kind="error">{formError}</Notice> : null}
      </form>
    </>
  );
}
