// VitalsMonitor -> Device, VitalsRange, AlertRecipientList (current state), VitalReading, Alert (append-only).
// Mirrors the projector's devices / vitals_ranges / alert_recipients / vital_readings / alerts tables.
import { BigInt, Bytes, log } from "@graphprotocol/graph-ts";
import {
  AlertRecipientsSet,
  DeviceAuthorized,
  DeviceRevoked,
  VitalsAlert,
  VitalsRangeSet,
  VitalsReported,
} from "../generated/VitalsMonitor/VitalsMonitor";
import { Alert, AlertRecipientList, Device, VitalReading, VitalsRange } from "../generated/schema";
import { eventId, eventIdAt } from "./helpers";

/** A device serves one patient at a time; a revoked device may be authorized again (by any patient). */
export function handleDeviceAuthorized(event: DeviceAuthorized): void {
  let device = Device.load(event.params.device);
  if (device === null) device = new Device(event.params.device);
  device.patient = event.params.patient;
  device.authorizedAt = event.block.timestamp;
  device.revokedAt = null;
  device.active = true;
  device.save();
}

export function handleDeviceRevoked(event: DeviceRevoked): void {
  const device = Device.load(event.params.device);
  if (device === null) {
    log.warning("DeviceRevoked for unknown device {}", [event.params.device.toHexString()]);
    return;
  }
  device.revokedAt = event.block.timestamp;
  device.active = false;
  device.save();
}

export function handleVitalsRangeSet(event: VitalsRangeSet): void {
  let range = VitalsRange.load(event.params.patient);
  if (range === null) {
    range = new VitalsRange(event.params.patient);
    range.patient = event.params.patient;
  }
  range.setBy = event.params.setBy;
  range.systolicMin = event.params.systolicMin;
  range.systolicMax = event.params.systolicMax;
  range.diastolicMin = event.params.diastolicMin;
  range.diastolicMax = event.params.diastolicMax;
  range.updatedAt = event.block.timestamp;
  range.save();
}

/** Replaces the whole list; an empty list clears it. */
export function handleAlertRecipientsSet(event: AlertRecipientsSet): void {
  let list = AlertRecipientList.load(event.params.patient);
  if (list === null) {
    list = new AlertRecipientList(event.params.patient);
    list.patient = event.params.patient;
  }
  list.recipients = changetype<Array<Bytes>>(event.params.recipients);
  list.updatedAt = event.block.timestamp;
  list.save();
}

export function handleVitalsReported(event: VitalsReported): void {
  const reading = new VitalReading(eventId(event));
  reading.patient = event.params.patient;
  reading.device = event.params.device;
  reading.measuredAt = event.params.measuredAt;
  reading.systolic = event.params.systolic;
  reading.diastolic = event.params.diastolic;
  reading.blockNumber = event.block.number;
  reading.blockTime = event.block.timestamp;
  reading.logIndex = event.logIndex;
  reading.transactionHash = event.transaction.hash;
  reading.save();
}

/** The contract emits VitalsAlert right after the VitalsReported of the same reading. */
export function handleVitalsAlert(event: VitalsAlert): void {
  const alert = new Alert(eventId(event));
  alert.patient = event.params.patient;
  alert.device = event.params.device;
  alert.measuredAt = event.params.measuredAt;
  alert.systolic = event.params.systolic;
  alert.diastolic = event.params.diastolic;
  alert.recipients = changetype<Array<Bytes>>(event.params.recipients);
  alert.blockNumber = event.block.number;
  alert.blockTime = event.block.timestamp;
  alert.logIndex = event.logIndex;
  alert.transactionHash = event.transaction.hash;

  alert.reading = null;
  if (event.logIndex.gt(BigInt.zero())) {
    const reading = VitalReading.load(eventIdAt(event, 1));
    if (
      reading !== null &&
      reading.patient.equals(alert.patient) &&
      reading.device.equals(alert.device) &&
      reading.measuredAt.equals(alert.measuredAt) &&
      reading.systolic == alert.systolic &&
      reading.diastolic == alert.diastolic
    ) {
      alert.reading = reading.id;
    }
  }
  alert.save();
}
