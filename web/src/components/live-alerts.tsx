import { useEffect, useState } from "react";
import { subscribe } from "../graphql/live.ts";
import { AlertRaisedSubscription } from "../graphql/operations.ts";
import { useSession } from "../session.tsx";
import { Notice } from "./notice.tsx";

type LiveAlert = { id: string; systolic: number; diastolic: number; measuredAt: string };

/** Blood-pressure alerts as they are indexed (graphql-ws), newest first. */
export function LiveAlerts({ patient }: { patient: string }) {
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
      { patient: patient as `0x${string}` },
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
              {a.systolic}/{a.diastolic} mmHg at {new Date(a.measuredAt).toLocaleString()}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
