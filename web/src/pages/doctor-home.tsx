import { type FormEvent, useState } from "react";
import { type Address, isAddress } from "viem";
import { AddressText } from "../components/address.tsx";
import { Notice } from "../components/notice.tsx";
import { DoctorHomeQuery } from "../graphql/operations.ts";
import { useGatewayQuery } from "../graphql/use-query.ts";
import { navigate } from "../router.ts";

export default function DoctorHome({ address }: { address: Address }) {
  const home = useGatewayQuery(DoctorHomeQuery, { address });
  const doctor = home.data?.data?.doctor;
  const [other, setOther] = useState("");
  const [formError, setFormError] = useState<string>();
  const open = (event: FormEvent) => {
    event.preventDefault();
    if (!isAddress(other))
      return setFormError("Enter a patient's account address (0x followed by 40 hex digits).");
    navigate(`/patient/${other}`);
  };
  return (
    <section aria-labelledby="doctor-title">
      <h1 id="doctor-title">My patients</h1>
      {home.error ? <Notice kind="error">{home.error.message}</Notice> : null}
      {doctor ? (
        <p>{doctor.verified ? "You are a verified doctor." : "A hospital has not verified you yet."}</p>
      ) : null}
      {doctor?.patients?.length ? (
        <ul>
          {doctor.patients.map((p) => (
            <li key={p.address}>
              <a href={`#/patient/${p.address}`}>
                Patient <AddressText address={p.address} />
              </a>
            </li>
          ))}
        </ul>
      ) : doctor ? (
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
    </section>
  );
}
