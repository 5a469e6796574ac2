import type { EventEnvelope } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import type { WorkingSet } from "../working-set.ts";
import { blockTime, expiry, type Projections, time } from "./values.ts";

type HistoryAction = "granted" | "changed" | "revoked" | "emergency_opened" | "emergency_closed";

/**
 * Grants (current state per patient and grantee), emergency access, and one grant_history row per event.
 * Expiry is stored, not acted on: queries compare expires_at with now(); the chain clock (clock.ts)
 * announces it once a block's time reaches it (`expired_event_id`).
 */
export const grantProjections: Projections = {
  AccessGranted: {
    keys: (e) => [["grants", { patient: e.payload.patient, grantee: e.payload.grantee }], historyKey(e)],
    apply: (e, rows) => {
      const scopes = e.payload.scopes;
      rows.put("grants", {
        patient: e.payload.patient,
        grantee: e.payload.grantee,
        scopes,
        expires_at: expiry(e.payload.expiresAt),
        granted_at: blockTime(e),
        updated_at: blockTime(e),
        revoked_at: null,
        expired_event_id: null,
      });
      history(rows, e, e.payload.grantee, "granted", { scopes, expires_at: expiry(e.payload.expiresAt) });
    },
  },
  AccessChanged: {
    keys: (e) => [["grants", { patient: e.payload.patient, grantee: e.payload.grantee }], historyKey(e)],
    apply: (e, rows) => {
      const scopes = e.payload.scopes;
      const key = { patient: e.payload.patient, grantee: e.payload.grantee };
      const row = rows.get("grants", key);
      if (row) {
        rows.put("grants", {
          ...row,
          scopes,
          expires_at: expiry(e.payload.expiresAt),
          updated_at: blockTime(e),
          expired_event_id: null, // a new expiry, not announced yet
        });
      }
      history(rows, e, e.payload.grantee, "changed", { scopes, expires_at: expiry(e.payload.expiresAt) });
    },
  },
  AccessRevoked: {
    keys: (e) => [["grants", { patient: e.payload.patient, grantee: e.payload.grantee }], historyKey(e)],
    apply: (e, rows) => {
      const row = rows.get("grants", { patient: e.payload.patient, grantee: e.payload.grantee });
      if (row) rows.put("grants", { ...row, revoked_at: blockTime(e), updated_at: blockTime(e) });
      history(rows, e, e.payload.grantee, "revoked", {});
    },
  },
  EmergencyAccessOpened: {
    keys: (e) => [
      ["emergency_access", { patient: e.payload.patient, doctor: e.payload.doctor }],
      historyKey(e),
    ],
    apply: (e, rows) => {
      rows.put("emergency_access", {
        patient: e.payload.patient,
        doctor: e.payload.doctor,
        expires_at: time(e.payload.expiresAt),
        reason_hash: e.payload.reasonHash,
        opened_at: blockTime(e),
        closed_at: null,
      });
      history(rows, e, e.payload.doctor, "emergency_opened", {
        expires_at: time(e.payload.expiresAt),
        reason_hash: e.payload.reasonHash,
      });
    },
  },
  EmergencyAccessClosed: {
    keys: (e) => [
      ["emergency_access", { patient: e.payload.patient, doctor: e.payload.doctor }],
      historyKey(e),
    ],
    apply: (e, rows) => {
      const row = rows.get("emergency_access", { patient: e.payload.patient, doctor: e.payload.doctor });
      if (row) rows.put("emergency_access", { ...row, closed_at: blockTime(e) });
      history(rows, e, e.payload.doctor, "emergency_closed", {});
    },
  },
};

const historyKey = (e: EventEnvelope): [TableName, Row] => ["grant_history", { event_id: e.id }];

function history(
  rows: WorkingSet,
  e: EventEnvelope & { payload: { patient: string } },
  grantee: string,
  action: HistoryAction,
  values: { scopes?: number; expires_at?: string | null; reason_hash?: string },
): void {
  rows.put("grant_history", {
    event_id: e.id,
    patient: e.payload.patient,
    grantee,
    action,
    scopes: values.scopes ?? null,
    expires_at: values.expires_at ?? null,
    reason_hash: values.reason_hash ?? null,
    block_number: e.blockNumber,
    block_time: blockTime(e),
    log_index: e.logIndex,
  });
}
