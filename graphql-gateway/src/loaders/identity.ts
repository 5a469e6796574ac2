import type { Role } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { activeGrantSql, openEmergencySql } from "../policy/index.ts";
import { pendingCountLoader } from "../webhooks/subscriptions.ts";
import { byKeyLoader, listByKeyLoader } from "./grouped.ts";
import {
  type DoctorRow,
  doctorColumns,
  type EmergencyRow,
  emergencyColumns,
  type GrantRow,
  grantColumns,
  type OrganizationRow,
  organizationColumns,
  type PatientRow,
  patientColumns,
} from "./rows.ts";

/** Per-request loaders of the identity subgraph: one statement per kind of lookup, however many parents. */
export function createIdentityLoaders(db: Database) {
  const p = db.projection;
  return {
    patient: byKeyLoader<PatientRow>(
      (keys) =>
        db.query(`SELECT ${patientColumns("t")} FROM ${p}.patients t WHERE t.address = ANY($1)`, [keys]),
      (row) => row.address,
    ),
    doctor: byKeyLoader<DoctorRow>(
      (keys) =>
        db.query(`SELECT ${doctorColumns("t")} FROM ${p}.doctors t WHERE t.address = ANY($1)`, [keys]),
      (row) => row.address,
    ),
    organization: byKeyLoader<OrganizationRow>(
      (keys) =>
        db.query(`SELECT ${organizationColumns("t")} FROM ${p}.organizations t WHERE t.address = ANY($1)`, [
          keys,
        ]),
      (row) => row.address,
    ),
    /** The role of any address (grantees, viewers), in one statement for all of them. */
    role: byKeyLoader<{ address: string; role: Role; kind: number | null }>(
      (keys) =>
        db.query(
          `SELECT address, 'patient' AS role, NULL::smallint AS kind FROM ${p}.patients WHERE address = ANY($1)
           UNION ALL SELECT address, 'doctor', NULL FROM ${p}.doctors WHERE address = ANY($1)
           UNION ALL SELECT address, 'organization', kind FROM ${p}.organizations WHERE address = ANY($1)`,
          [keys],
        ),
      (row) => row.address,
    ),
    /** A patient's active grants, oldest first. */
    activeGrants: listByKeyLoader<GrantRow>(
      (keys) =>
        db.query(
          `SELECT ${grantColumns("g")} FROM ${p}.grants g
            WHERE g.patient = ANY($1) AND ${activeGrantSql("g")} ORDER BY g.granted_at, g.grantee`,
          [keys],
        ),
      (row) => row.patient,
    ),
    /** A patient's open emergency accesses. */
    openEmergencies: listByKeyLoader<EmergencyRow>(
      (keys) =>
        db.query(
          `SELECT ${emergencyColumns("e")} FROM ${p}.emergency_access e
            WHERE e.patient = ANY($1) AND ${openEmergencySql("e", p)} ORDER BY e.opened_at, e.doctor`,
          [keys],
        ),
      (row) => row.patient,
    ),
    /** The patients a doctor or organization may act for now: active grants and open emergency accesses. */
    patientsOf: listByKeyLoader<{ grantee: string; patient: string }>(
      (keys) =>
        db.query(
          `SELECT grantee, patient FROM (
             SELECT DISTINCT ON (grantee, patient) grantee, patient, since FROM (
               SELECT g.grantee, g.patient, g.granted_at AS since FROM ${p}.grants g
                WHERE g.grantee = ANY($1) AND ${activeGrantSql("g")}
               UNION ALL
               SELECT e.doctor, e.patient, e.opened_at FROM ${p}.emergency_access e
                WHERE e.doctor = ANY($1) AND ${openEmergencySql("e", p)}
             ) u ORDER BY grantee, patient, since
           ) t ORDER BY since, patient`,
          [keys],
        ),
      (row) => row.grantee,
    ),
    /** Pending deliveries of webhook subscriptions (WebhookSubscription.pending), one statement for all. */
    webhookPending: pendingCountLoader(db),
  };
}

export type IdentityLoaders = ReturnType<typeof createIdentityLoaders>;
