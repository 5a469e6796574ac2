import type { Device, Observation, ObservationComponent } from "@medplum/fhirtypes";
import type { ReadingRow, VitalsRangeRow } from "../loaders/rows.ts";
import { bloodPressure, digestId, system, vitalSignsCategory } from "./codes.ts";
import { deviceReference, patientReference } from "./identity.ts";

/** A device row of the projections (`devices`): authorized by the patient, maybe revoked since. */
export type DeviceRow = { device: string; patient: string; authorizedAt: Date; revokedAt: Date | null };

const mmHg = (value: number) => ({ value, ...bloodPressure.unit });

/**
 * A blood-pressure reading as the vital-signs blood-pressure panel: LOINC 85354-9 with systolic (8480-6)
 * and diastolic (8462-4) components in mm[Hg], measured by the device that signed it. The patient's range,
 * when one is set, is each component's reference range.
 */
export function observationResource(reading: ReadingRow, range: VitalsRangeRow | null): Observation {
  const component = (
    code: typeof bloodPressure.systolic | typeof bloodPressure.diastolic,
    value: number,
    low: number | undefined,
    high: number | undefined,
  ): ObservationComponent => ({
    code: { coding: [code] },
    valueQuantity: mmHg(value),
    ...(low !== undefined && high !== undefined
      ? { referenceRange: [{ low: mmHg(low), high: mmHg(high) }] }
      : {}),
  });
  return {
    resourceType: "Observation",
    id: digestId(reading.eventId),
    meta: { lastUpdated: reading.blockTime.toISOString() },
    identifier: [{ system: system.event, value: reading.eventId }],
    status: "final",
    category: [{ coding: [vitalSignsCategory] }],
    code: { coding: [bloodPressure.panel], text: "Blood pressure" },
    subject: patientReference(reading.patient),
    effectiveDateTime: reading.measuredAt.toISOString(),
    issued: reading.blockTime.toISOString(),
    device: deviceReference(reading.device),
    component: [
      component(bloodPressure.systolic, reading.systolic, range?.systolicMin, range?.systolicMax),
      component(bloodPressure.diastolic, reading.diastolic, range?.diastolicMin, range?.diastolicMax),
    ],
  };
}

/**
 * A device, id = its address: active while the patient's authorization stands, inactive once revoked, and
 * of unknown status when readings name it but no authorization is projected.
 */
export function deviceResource(address: string, patient: string, row: DeviceRow | undefined): Device {
  return {
    resourceType: "Device",
    id: address,
    identifier: [{ system: system.account, value: address }],
    status: row ? (row.revokedAt ? "inactive" : "active") : "unknown",
    type: { text: "Blood pressure monitor" },
    patient: patientReference(patient),
  };
}
