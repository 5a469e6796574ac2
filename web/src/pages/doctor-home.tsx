import type { Address } from "viem";
import { LiveAlerts } from "../components/live-alerts.tsx";
import { Notice } from "../components/notice.tsx";
import { PatientPicker } from "../components/patient-picker.tsx";
import { DoctorHomeQuery } from "../graphql/operations.ts";
import { useGatewayQuery } from "../graphql/use-query.ts";

export default function DoctorHome({ address }: { address: Address }) {
  const home = useGatewayQuery(DoctorHomeQuery, { address });
  const doctor = home.data?.data?.doctor;
  return (
    <section aria-labelledby="doctor-title">
      <h1 id="doctor-title">My patients</h1>
      {home.error ? <Notice kind="error">{home.error.message}</Notice> : null}
      {doctor ? (
        <p>{doctor.verified ? "You are a verified doctor." : "A hospital has not verified you yet."}</p>
      ) : null}
      <PatientPicker patients={doctor ? (doctor.patients ?? []) : undefined} />
      <LiveAlerts />
    </section>
  );
}
