import type { EventEnvelope } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import type { WorkingSet } from "../working-set.ts";
import { blockTime, type Projections } from "./values.ts";

const accountTables: TableName[] = ["patients", "doctors", "organizations"];

/** Patients, doctors and organizations: who is registered, their profile hash and key, verification. */
export const identityProjections: Projections = {
  PatientRegistered: {
    keys: (e) => [["patients", { address: e.payload.patient }]],
    apply: (e, rows) => {
      rows.put("patients", {
        address: e.payload.patient,
        profile_hash: e.payload.profileHash,
        encryption_key: e.payload.encryptionKey,
        registered_block: e.blockNumber,
        registered_at: blockTime(e),
        updated_at: blockTime(e),
      });
    },
  },
  DoctorRegistered: {
    keys: (e) => [["doctors", { address: e.payload.doctor }]],
    apply: (e, rows) => {
      rows.put("doctors", {
        address: e.payload.doctor,
        profile_hash: e.payload.profileHash,
        encryption_key: e.payload.encryptionKey,
        license_hash: e.payload.licenseHash,
        verified: false,
        verified_by: null,
        verified_at: null,
        registered_block: e.blockNumber,
        registered_at: blockTime(e),
        updated_at: blockTime(e),
      });
    },
  },
  OrganizationRegistered: {
    keys: (e) => [["organizations", { address: e.payload.organization }]],
    apply: (e, rows) => {
      rows.put("organizations", {
        address: e.payload.organization,
        kind: e.payload.kind,
        profile_hash: e.payload.profileHash,
        encryption_key: e.payload.encryptionKey,
        is_registrar: false,
        registered_block: e.blockNumber,
        registered_at: blockTime(e),
        updated_at: blockTime(e),
      });
    },
  },
  // The account is in exactly one of the three tables (one role per address).
  ProfileUpdated: {
    keys: (e) => accountTables.map((table) => [table, { address: e.payload.account }]),
    apply: (e, rows) => {
      for (const table of accountTables) {
        const row = rows.get(table, { address: e.payload.account });
        if (!row) continue;
        rows.put(table, {
          ...row,
          profile_hash: e.payload.profileHash,
          encryption_key: e.payload.encryptionKey,
          updated_at: blockTime(e),
        });
        return;
      }
    },
  },
  RegistrarSet: {
    keys: (e) => [["organizations", { address: e.payload.organization }]],
    apply: (e, rows) =>
      update(rows, "organizations", e.payload.organization, e, { is_registrar: e.payload.enabled }),
  },
  DoctorVerified: {
    keys: (e) => [["doctors", { address: e.payload.doctor }]],
    apply: (e, rows) =>
      update(rows, "doctors", e.payload.doctor, e, {
        verified: true,
        verified_by: e.payload.registrar,
        verified_at: blockTime(e),
      }),
  },
  DoctorVerificationRevoked: {
    keys: (e) => [["doctors", { address: e.payload.doctor }]],
    apply: (e, rows) =>
      update(rows, "doctors", e.payload.doctor, e, { verified: false, verified_by: null, verified_at: null }),
  },
};

/** Changes columns of an existing account row (no row: the event has no effect). */
function update(
  rows: WorkingSet,
  table: TableName,
  address: string,
  event: EventEnvelope,
  changes: Row,
): void {
  const row = rows.get(table, { address });
  if (row) rows.put(table, { ...row, ...changes, updated_at: blockTime(event) });
}
