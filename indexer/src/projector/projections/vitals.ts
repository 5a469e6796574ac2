import type { EventEnvelope } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import { blockTime, type Projections, time } from "./values.ts";

/** Devices, vitals ranges, alert recipients, and one row per reading and per alert. */
export const vitalsProjections: Projections = {
  DeviceAuthorized: {
    keys: (e) => [["devices", { device: e.payload.device }]],
    apply: (e, rows) => {
      rows.put("devices", {
        device: e.payload.device,
        patient: e.payload.patient,
        authorized_at: blockTime(e),
        revoked_at: null,
      });
    },
  },
  DeviceRevoked: {
    keys: (e) => [["devices", { device: e.payload.device }]],
    apply: (e, rows) => {
      const row = rows.get("devices", { device: e.payload.device });
      if (row) rows.put("devices", { ...row, revoked_at: blockTime(e) });
    },
  },
  VitalsRangeSet: {
    keys: (e) => [["vitals_ranges", { patient: e.payload.patient }]],
    apply: (e, rows) => {
      const p = e.payload;
      rows.put("vitals_ranges", {
        patient: p.patient,
        set_by: p.setBy,
        systolic_min: p.systolicMin,
        systolic_max: p.systolicMax,
        diastolic_min: p.diastolicMin,
        diastolic_max: p.diastolicMax,
        updated_at: blockTime(e),
      });
    },
  },
  AlertRecipientsSet: {
    keys: (e) => [["alert_recipients", { patient: e.payload.patient }]],
    apply: (e, rows) => {
      rows.put("alert_recipients", {
        patient: e.payload.patient,
        recipients: [...e.payload.recipients],
        updated_at: blockTime(e),
      });
    },
  },
  VitalsReported: {
    keys: (e) => [eventKey("vital_readings", e)],
    apply: (e, rows) => {
      rows.put("vital_readings", readingColumns(e));
    },
  },
  VitalsAlert: {
    keys: (e) => [eventKey("alerts", e)],
    apply: (e, rows) => {
      // Provisional until deep enough: the fold (finality when raised) or the chain clock (clock.ts) says so.
      rows.put("alerts", {
        ...readingColumns(e),
        recipients: [...e.payload.recipients],
        final: false,
        final_event_id: null,
      });
    },
  },
};

const eventKey = (table: TableName, e: EventEnvelope): [TableName, Row] => [table, { event_id: e.id }];

/** The columns a reading and an alert share: an alert is a reading that left the patient's range. */
function readingColumns(e: EventEnvelope<"VitalsReported" | "VitalsAlert">) {
  const p = e.payload;
  return {
    event_id: e.id,
    patient: p.patient,
    device: p.device,
    measured_at: time(p.measuredAt),
    systolic: p.systolic,
    diastolic: p.diastolic,
    block_number: e.blockNumber,
    block_time: blockTime(e),
  };
}
