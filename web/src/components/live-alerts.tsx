import { useEffect, useState } from "react";
import { subscribe } from "../graphql/live.ts";
import { AlertRaisedSubscription } from "../graphql/operations.ts";
import { useSession } from "../session.tsx";
import { AddressText } from "./address.tsx";
import { Notice } from "./notice.tsx";

type LiveAlert = {
  id: string;
  patient: `0x${string}`;
  systolic: number;
  diastolic: number;
  measuredAt: string;
  finality: "PROVISIONAL" | "FINAL";
};

/**
 * Blood-pressure alerts as they are indexed (graphql-ws), newest first: one patient's, or, without a patient,
 * every alert the viewer may read (a doctor's patients), each naming its patient, and whether it is final
 * (deep enough in the chain to act on) or provisional (a reorg may still take it back: it would then leave
 * the list).
 */
export function LiveAlerts({ patient }: { patient?: `0x${string}` }) {
  const { config, token } = useSession();
  const [alerts, setAlerts] = useState<LiveAlert[]>([]);
  const [error, setError] = useState<string>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    if (!token) return;
    return subscribe(
      config.gatewayUrl,
      token,
      AlertRaisedSubscription,
      { patient: patient ?? null },
      ({ alertRaised }) =>
        setAlerts((list) =>
          alertRaised.retracted
            ? list.filter((a) => a.id !== alertRaised.id.replace(/:retracted$/, ""))
            : [alertRaised, ...list].slice(0, 20),
        ),
      setError,
      () => setLive(true),
    );
  }, [config.gatewayUrl, token, patient]);
  return (
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Live alerts</h2>
      <p>{live ? "Live: new alerts appear here as they arrive." : "Connecting to live alerts…"}</p>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {alerts.length === 0 ? (
        <p>No alert since this page was opened.</p>
      ) : (
        <ul aria-live="polite">
          {alerts.map((a) => (
            <li key={a.id}>
              {patient ? null : (
                <>
                  Patient <AddressText address={a.patient} />:{" "}
                </>
              )}
              {a.systolic}/{a.diastolic} mmHg at {new Date(a.measuredAt).toLocaleString()}
              {a.finality === "FINAL" ? " (final)" : " (provisional)"}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
