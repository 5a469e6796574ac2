import type { Flag } from "@medplum/fhirtypes";
import type { AlertRow } from "../loaders/rows.ts";
import { digestId, system } from "./codes.ts";
import { deviceReference, patientReference } from "./identity.ts";

/**
 * A vitals alert (a reading outside the patient's range, raised on chain by the vitals monitor) as a
 * clinical Flag on the patient, authored by the device, from the time of the reading. Alerts are never
 * closed on chain, so the flag stays active.
 */
export function flagResource(alert: AlertRow): Flag {
  return {
    resourceType: "Flag",
    id: digestId(alert.eventId),
    meta: { lastUpdated: alert.blockTime.toISOString() },
    identifier: [{ system: system.event, value: alert.eventId }],
    status: "active",
    category: [
      {
        coding: [
          {
            system: "http://terminology.hl7.org/CodeSystem/flag-category",
            code: "clinical",
            display: "Clinical",
          },
        ],
      },
    ],
    code: {
      coding: [
        { system: system.alert, code: "blood-pressure-out-of-range", display: "Blood pressure out of range" },
      ],
      text: `Blood pressure ${alert.systolic}/${alert.diastolic} mmHg outside the patient's range`,
    },
    subject: patientReference(alert.patient),
    period: { start: alert.measuredAt.toISOString() },
    author: deviceReference(alert.device),
  };
}
