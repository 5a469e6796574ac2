// The questions both read models answer (patients, doctors, grants and their history, emergency access,
// records with their versions, readings, the latest reading of each patient, alerts), asked of the
// projector's tables and turned into gnd assertions: the subgraph must give the projector's answers.
// Arrays are compared as sets by gnd, and numbers match their string form (BigInt fields).

import { policy } from "@carechain/gateway";
import { type Dump, dumpProjections, type Pool, type PoolClient } from "@carechain/indexer";
import type { GndAssertion } from "./gnd-harness.ts";

type Row = Record<string, unknown>;
const ref = (id: unknown) => (id === null || id === undefined ? null : { id });
const all = "first: 1000";

export interface ProjectorAnswers {
  assertions: GndAssertion[];
  /** Grants active at `now` by the gateway's rule (policy/active-access.ts), as "patient|grantee". */
  activeNow: string[];
  /** Grants the subgraph's isActive marks: active as of the block of their last event. */
  activeAtLastEvent: string[];
  openNow: string[];
  openAtLastEvent: string[];
}

/** Asks the projection in `schema` every question, judging expiry at `now` (Unix seconds). */
export async function projectorAnswers(db: Pool, schema: string, now: number): Promise<ProjectorAnswers> {
  const dump = await dumpProjections(db, schema);
  const nowDate = new Date(now * 1000).toISOString();
  const activeNow = await pairs(
    db,
    `SELECT g.patient || '|' || g.grantee AS pair FROM ${schema}.grants g WHERE ${policy.activeGrantSql("g", "$1::timestamptz")}`,
    [nowDate],
  );
  const openNow = await pairs(
    db,
    `SELECT e.patient || '|' || e.doctor AS pair FROM ${schema}.emergency_access e
      WHERE ${policy.openEmergencySql("e", schema, "$1::timestamptz")}`,
    [nowDate],
  );
  // What graph-node can know: the state as of the block of the row's last event (no wall clock).
  const activeAtLastEvent = dump.grants
    .filter(
      (g) => g.revoked_at === null && (g.expires_at === null || Number(g.expires_at) > Number(g.updated_at)),
    )
    .map((g) => `${g.patient}|${g.grantee}`);
  const lastEvent = (e: Row) => Math.max(Number(e.opened_at), Number(e.closed_at ?? 0));
  const openAtLastEvent = dump.emergency_access
    .filter((e) => e.closed_at === null && Number(e.expires_at) > lastEvent(e))
    .map((e) => `${e.patient}|${e.doctor}`);

  return {
    assertions: [
      ...identityQuestions(dump),
      ...grantQuestions(dump, now, activeNow, openNow, activeAtLastEvent, openAtLastEvent),
      ...recordQuestions(dump),
      ...vitalsQuestions(dump),
    ],
    activeNow,
    activeAtLastEvent,
    openNow,
    openAtLastEvent,
  };
}

async function pairs(db: Pool | PoolClient, sql: string, values: unknown[]): Promise<string[]> {
  const { rows } = await db.query<{ pair: string }>(sql, values);
  return rows.map((row) => row.pair).sort();
}

function identityQuestions(dump: Dump): GndAssertion[] {
  return [
    {
      query: `{ patients(${all}) { id profileHash encryptionKey registeredBlock registeredAt updatedAt } }`,
      expected: {
        patients: dump.patients.map((p) => ({
          id: p.address,
          profileHash: p.profile_hash,
          encryptionKey: p.encryption_key,
          registeredBlock: p.registered_block,
          registeredAt: p.registered_at,
          updatedAt: p.updated_at,
        })),
      },
    },
    {
      query: `{ doctors(${all}) { id profileHash encryptionKey licenseHash verified verifiedBy { id } verifiedAt registeredAt updatedAt } }`,
      expected: {
        doctors: dump.doctors.map((d) => ({
          id: d.address,
          profileHash: d.profile_hash,
          encryptionKey: d.encryption_key,
          licenseHash: d.license_hash,
          verified: d.verified,
          verifiedBy: ref(d.verified_by),
          verifiedAt: d.verified_at,
          registeredAt: d.registered_at,
          updatedAt: d.updated_at,
        })),
      },
    },
    {
      query: `{ organizations(${all}) { id kind profileHash encryptionKey isRegistrar registeredAt updatedAt } }`,
      expected: {
        organizations: dump.organizations.map((o) => ({
          id: o.address,
          kind: o.kind,
          profileHash: o.profile_hash,
          encryptionKey: o.encryption_key,
          isRegistrar: o.is_registrar,
          registeredAt: o.registered_at,
          updatedAt: o.updated_at,
        })),
      },
    },
  ];
}

const pairObject = (pair: string, second: "grantee" | "doctor") => {
  const [patient, other] = pair.split("|");
  return { patient: { id: patient }, [second]: { id: other } };
};

function grantQuestions(
  dump: Dump,
  now: number,
  activeNow: string[],
  openNow: string[],
  activeAtLastEvent: string[],
  openAtLastEvent: string[],
): GndAssertion[] {
  return [
    {
      query: `{ grants(${all}) { patient { id } grantee { id } scopes expiresAt grantedAt updatedAt revokedAt } }`,
      expected: {
        grants: dump.grants.map((g) => ({
          patient: ref(g.patient),
          grantee: ref(g.grantee),
          scopes: g.scopes,
          expiresAt: g.expires_at,
          grantedAt: g.granted_at,
          updatedAt: g.updated_at,
          revokedAt: g.revoked_at,
        })),
      },
    },
    {
      // The reader judges expiry with its own clock: README.md's active-grant filter, `$now` inlined.
      query: `{ activeNow: grants(${all}, where: { or: [{ revoked: false, expiresAt: null }, { revoked: false, expiresAt_gt: "${now}" }] }) { patient { id } grantee { id } } }`,
      expected: { activeNow: activeNow.map((pair) => pairObject(pair, "grantee")) },
    },
    {
      // By design not the same set: isActive is the state as of the grant's last event.
      query: `{ activeAtLastEvent: grants(${all}, where: { isActive: true }) { patient { id } grantee { id } } }`,
      expected: { activeAtLastEvent: activeAtLastEvent.map((pair) => pairObject(pair, "grantee")) },
    },
    {
      query: `{ grantEvents(${all}) { patient { id } grantee { id } action scopes expiresAt reasonHash blockNumber blockTime logIndex } }`,
      expected: {
        grantEvents: dump.grant_history.map((h) => ({
          patient: ref(h.patient),
          grantee: ref(h.grantee),
          action: h.action,
          scopes: h.scopes,
          expiresAt: h.expires_at,
          reasonHash: h.reason_hash,
          blockNumber: h.block_number,
          blockTime: h.block_time,
          logIndex: h.log_index,
        })),
      },
    },
    {
      query: `{ emergencyAccesses(${all}) { patient { id } doctor { id } expiresAt reasonHash openedAt closedAt } }`,
      expected: {
        emergencyAccesses: dump.emergency_access.map((e) => ({
          patient: ref(e.patient),
          doctor: ref(e.doctor),
          expiresAt: e.expires_at,
          reasonHash: e.reason_hash,
          openedAt: e.opened_at,
          closedAt: e.closed_at,
        })),
      },
    },
    {
      // README.md's open-emergency filter: not closed, not expired at the reader's now, doctor verified.
      query: `{ openNow: emergencyAccesses(${all}, where: { closedAt: null, expiresAt_gt: "${now}", doctor_: { verified: true } }) { patient { id } doctor { id } } }`,
      expected: { openNow: openNow.map((pair) => pairObject(pair, "doctor")) },
    },
    {
      query: `{ openAtLastEvent: emergencyAccesses(${all}, where: { isOpen: true }) { patient { id } doctor { id } } }`,
      expected: { openAtLastEvent: openAtLastEvent.map((pair) => pairObject(pair, "doctor")) },
    },
  ];
}

function recordQuestions(dump: Dump): GndAssertion[] {
  const roots = [...new Set(dump.records.map((r) => String(r.root_record_id)))].sort();
  const versions = roots.map((root, index) => ({
    query: `{ root${index}: record(id: "${root}") { versions { id version isLatest } } }`,
    expected: {
      [`root${index}`]: {
        versions: dump.records
          .filter((r) => r.root_record_id === root)
          .map((r) => ({ id: r.record_id, version: r.version, isLatest: r.superseded_by === null })),
      },
    },
  }));
  return [
    {
      query: `{ records(${all}) { id patient { id } author { id } submitter { id } recordType contentHash storagePointer previous { id } root { id } version supersededBy { id } blockNumber blockTime logIndex } }`,
      expected: {
        records: dump.records.map((r) => ({
          id: r.record_id,
          patient: ref(r.patient),
          author: ref(r.author),
          submitter: ref(r.submitter),
          recordType: r.record_type,
          contentHash: r.content_hash,
          storagePointer: r.storage_pointer,
          previous: ref(r.previous_record_id),
          root: ref(r.root_record_id),
          version: r.version,
          supersededBy: ref(r.superseded_by),
          blockNumber: r.block_number,
          blockTime: r.block_time,
          logIndex: r.log_index,
        })),
      },
    },
    {
      query: `{ latest: records(${all}, where: { isLatest: true }) { id } }`,
      expected: {
        latest: dump.records.filter((r) => r.superseded_by === null).map((r) => ({ id: r.record_id })),
      },
    },
    ...versions,
  ];
}

function vitalsQuestions(dump: Dump): GndAssertion[] {
  const reading = (r: Row) => ({
    patient: ref(r.patient),
    device: ref(r.device),
    measuredAt: r.measured_at,
    systolic: r.systolic,
    diastolic: r.diastolic,
    blockNumber: r.block_number,
    blockTime: r.block_time,
  });
  const readingPatients = [...new Set(dump.vital_readings.map((r) => String(r.patient)))].sort();
  const latestReadings = readingPatients.map((patient, index) => {
    const latest = dump.vital_readings
      .filter((r) => r.patient === patient)
      .reduce((a, b) => (Number(b.measured_at) > Number(a.measured_at) ? b : a));
    return {
      query: `{ latest${index}: vitalReadings(where: { patient: "${patient}" }, orderBy: measuredAt, orderDirection: desc, first: 1) { patient { id } device { id } measuredAt systolic diastolic blockNumber blockTime } }`,
      expected: { [`latest${index}`]: [reading(latest)] },
    };
  });
  return [
    {
      query: `{ vitalReadings(${all}) { patient { id } device { id } measuredAt systolic diastolic blockNumber blockTime } }`,
      expected: { vitalReadings: dump.vital_readings.map(reading) },
    },
    ...latestReadings,
    {
      query: `{ alerts(${all}) { patient { id } device { id } measuredAt systolic diastolic blockNumber blockTime recipients { id } } }`,
      expected: {
        alerts: dump.alerts.map((a) => ({
          ...reading(a),
          recipients: (a.recipients as string[]).map((id) => ({ id })),
        })),
      },
    },
    {
      query: `{ devices(${all}) { id patient { id } authorizedAt revokedAt } }`,
      expected: {
        devices: dump.devices.map((d) => ({
          id: d.device,
          patient: ref(d.patient),
          authorizedAt: d.authorized_at,
          revokedAt: d.revoked_at,
        })),
      },
    },
    {
      query: `{ vitalsRanges(${all}) { patient { id } setBy { id } systolicMin systolicMax diastolicMin diastolicMax updatedAt } }`,
      expected: {
        vitalsRanges: dump.vitals_ranges.map((v) => ({
          patient: ref(v.patient),
          setBy: ref(v.set_by),
          systolicMin: v.systolic_min,
          systolicMax: v.systolic_max,
          diastolicMin: v.diastolic_min,
          diastolicMax: v.diastolic_max,
          updatedAt: v.updated_at,
        })),
      },
    },
    {
      query: `{ alertRecipientLists(${all}) { patient { id } recipients { id } updatedAt } }`,
      expected: {
        alertRecipientLists: dump.alert_recipients.map((l) => ({
          patient: ref(l.patient),
          recipients: (l.recipients as string[]).map((id) => ({ id })),
          updatedAt: l.updated_at,
        })),
      },
    },
  ];
}
