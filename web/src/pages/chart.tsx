import { lazy, Suspense, useState } from "react";
import type { Address } from "viem";
import { AddRecordForm } from "../components/add-record.tsx";
import { AddressText } from "../components/address.tsx";
import { AmendRecordForm } from "../components/amend-record.tsx";
import { EmergencyAccessForm, EmergencyAccessUntil } from "../components/emergency-access.tsx";
import { Notice } from "../components/notice.tsx";
import { type RecordItem, RecordList } from "../components/record-list.tsx";
import { PatientChartQuery } from "../graphql/operations.ts";
import { useGatewayQuery } from "../graphql/use-query.ts";

const VitalsChart = lazy(() => import("../components/vitals-chart.tsx"));

/** A patient's chart as the policy allows: a refusal is "no access", not an error page. */
export default function ChartPage({
  patient,
  canAddRecords,
  canOpenEmergency = false,
}: {
  patient: Address;
  canAddRecords: boolean;
  canOpenEmergency?: boolean;
}) {
  const chart = useGatewayQuery(PatientChartQuery, { address: patient });
  const data = chart.data?.data?.patient;
  // Kept once opened: the write's status stays on the page after the chart it unlocked appears.
  const [emergencyOpened, setEmergencyOpened] = useState(false);
  const [amending, setAmending] = useState<RecordItem>();
  return (
    <section aria-labelledby="chart-title">
      <h1 id="chart-title">
        Chart of patient <AddressText address={patient} />
      </h1>
      <p>
        <a href="#/">Back to my patients</a>
      </p>
      {chart.isLoading ? <p>Loading…</p> : null}
      {chart.error ? <Notice kind="error">{chart.error.message}</Notice> : null}
      {chart.data && !data ? (
        <Notice kind="info">
          <strong>You have no access to this.</strong> The patient has not given you access, or has revoked
          it.
        </Notice>
      ) : null}
      {data ? (
        <>
          {canOpenEmergency ? <EmergencyAccessUntil patient={patient} refresh={emergencyOpened} /> : null}
          <h2>Records</h2>
          {data.records ? (
            <RecordList
              records={data.records.edges.map((e) => e.node)}
              patient={patient}
              onAmend={canAddRecords ? setAmending : undefined}
            />
          ) : (
            <p>You have no access to the records.</p>
          )}
          {canAddRecords && amending ? (
            <AmendRecordForm
              key={amending.id}
              patient={patient}
              record={amending}
              onAmended={() => void chart.refetch()}
              onCancel={() => setAmending(undefined)}
            />
          ) : null}
          {canAddRecords ? <AddRecordForm patient={patient} onAdded={() => void chart.refetch()} /> : null}
          <h2>Vitals</h2>
          {data.vitals ? (
            data.vitals.length > 0 ? (
              <Suspense fallback={<p>Loading the chart…</p>}>
                <VitalsChart readings={data.vitals} range={data.vitalsRange ?? undefined} />
              </Suspense>
            ) : (
              <p>No readings yet.</p>
            )
          ) : (
            <p>You have no access to the vitals.</p>
          )}
        </>
      ) : null}
      {canOpenEmergency && ((chart.data && !data) || emergencyOpened) ? (
        <EmergencyAccessForm
          patient={patient}
          onOpened={() => {
            setEmergencyOpened(true);
            void chart.refetch();
          }}
        />
      ) : null}
    </section>
  );
}
