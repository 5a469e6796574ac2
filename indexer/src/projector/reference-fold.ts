import type { EventEnvelope } from "@carechain/common";
import type { Dump } from "./dump.ts";
import type { Row } from "./tables.ts";

/**
 * The reference the projector is tested against: a plain in-memory fold, written for obviousness, not speed.
 * Semantics: the first copy of an event id counts, later copies are ignored; a retraction that follows its
 * event removes the event from history (it stays in `events`, marked retracted), so the tables are the fold
 * of the surviving events in order. That equals "restore the before-images" because reorgs retract the
 * latest events, newest first. Timestamps are Unix seconds (uint64 beyond any date: 'infinity').
 */
export function referenceFold(stream: readonly EventEnvelope[]): Dump {
  const first = new Map<string, EventEnvelope>();
  const retracted = new Set<string>();
  for (const e of stream) {
    if (!e.retracted && !first.has(e.id)) first.set(e.id, e);
    else if (e.retracted && first.has(e.id)) retracted.add(e.id);
  }
  const t = new Tables();
  for (const e of first.values()) if (!retracted.has(e.id)) t.apply(e);
  const events = [...first.values()].map((e) => ({
    event_id: e.id,
    type: e.type,
    chain_id: e.chainId,
    block_number: e.blockNumber,
    block_hash: e.blockHash,
    block_time: e.blockTimestamp,
    tx_hash: e.txHash,
    log_index: e.logIndex,
    patient: typeof (e.payload as Row).patient === "string" ? (e.payload as Row).patient : null,
    payload: e.payload,
    retracted: retracted.has(e.id),
  }));
  return { ...t.dump(), events: sortBy(events, ["event_id"]), dead_letters: [] };
}

/** Every payload field the fold reads (each event has a subset). */
type AnyPayload = {
  [K in
    | "patient"
    | "doctor"
    | "organization"
    | "account"
    | "grantee"
    | "registrar"
    | "device"
    | "recordId"
    | "previousRecordId"
    | "rootRecordId"
    | "profileHash"
    | "encryptionKey"
    | "licenseHash"
    | "expiresAt"
    | "reasonHash"
    | "author"
    | "submitter"
    | "contentHash"
    | "storagePointer"
    | "setBy"
    | "measuredAt"]: string;
} & {
  [K in
    | "kind"
    | "scopes"
    | "recordType"
    | "version"
    | "systolicMin"
    | "systolicMax"
    | "diastolicMin"
    | "diastolicMax"
    | "systolic"
    | "diastolic"]: number;
} & { enabled: boolean; recipients: string[] };

const MAX = 8_640_000_000_000n;
const seconds = (v: number | string) => (BigInt(v) > MAX ? "infinity" : Number(v));
const expiry = (v: number | string) => (BigInt(v) === 0n ? null : seconds(v));
const zero = (v: string) => /^0x0*$/.test(v);

class Tables {
  patients = new Map<string, Row>();
  doctors = new Map<string, Row>();
  organizations = new Map<string, Row>();
  grants = new Map<string, Row>();
  grant_history = new Map<string, Row>();
  emergency_access = new Map<string, Row>();
  records = new Map<string, Row>();
  devices = new Map<string, Row>();
  vitals_ranges = new Map<string, Row>();
  alert_recipients = new Map<string, Row>();
  vital_readings = new Map<string, Row>();
  alerts = new Map<string, Row>();

  apply(e: EventEnvelope): void {
    const at = e.blockTimestamp;
    const p = e.payload as unknown as AnyPayload;
    const history = (grantee: string, action: string, extra: Row = {}) =>
      this.grant_history.set(e.id, {
        event_id: e.id,
        patient: p.patient,
        grantee,
        action,
        scopes: null,
        expires_at: null,
        reason_hash: null,
        block_number: e.blockNumber,
        block_time: at,
        log_index: e.logIndex,
        ...extra,
      });
    const update = (map: Map<string, Row>, key: string, changes: Row) => {
      const row = map.get(key);
      if (row) map.set(key, { ...row, ...changes });
    };
    switch (e.type) {
      case "PatientRegistered":
        this.patients.set(p.patient, {
          address: p.patient,
          profile_hash: p.profileHash,
          encryption_key: p.encryptionKey,
          registered_block: e.blockNumber,
          registered_at: at,
          updated_at: at,
        });
        break;
      case "DoctorRegistered":
        this.doctors.set(p.doctor, {
          address: p.doctor,
          profile_hash: p.profileHash,
          encryption_key: p.encryptionKey,
          license_hash: p.licenseHash,
          verified: false,
          verified_by: null,
          verified_at: null,
          registered_block: e.blockNumber,
          registered_at: at,
          updated_at: at,
        });
        break;
      case "OrganizationRegistered":
        this.organizations.set(p.organization, {
          address: p.organization,
          kind: p.kind,
          profile_hash: p.profileHash,
          encryption_key: p.encryptionKey,
          is_registrar: false,
          registered_block: e.blockNumber,
          registered_at: at,
          updated_at: at,
        });
        break;
      case "ProfileUpdated": {
        const map = [this.patients, this.doctors, this.organizations].find((m) => m.has(p.account));
        if (map)
          update(map, p.account, {
            profile_hash: p.profileHash,
            encryption_key: p.encryptionKey,
            updated_at: at,
          });
        break;
      }
      case "RegistrarSet":
        update(this.organizations, p.organization, { is_registrar: p.enabled, updated_at: at });
        break;
      case "DoctorVerified":
        update(this.doctors, p.doctor, {
          verified: true,
          verified_by: p.registrar,
          verified_at: at,
          updated_at: at,
        });
        break;
      case "DoctorVerificationRevoked":
        update(this.doctors, p.doctor, {
          verified: false,
          verified_by: null,
          verified_at: null,
          updated_at: at,
        });
        break;
      case "AccessGranted":
        this.grants.set(`${p.patient}|${p.grantee}`, {
          patient: p.patient,
          grantee: p.grantee,
          scopes: p.scopes,
          expires_at: expiry(p.expiresAt),
          granted_at: at,
          updated_at: at,
          revoked_at: null,
          expired_event_id: null,
        });
        history(p.grantee, "granted", { scopes: p.scopes, expires_at: expiry(p.expiresAt) });
        break;
      case "AccessChanged":
        update(this.grants, `${p.patient}|${p.grantee}`, {
          scopes: p.scopes,
          expires_at: expiry(p.expiresAt),
          updated_at: at,
          expired_event_id: null,
        });
        history(p.grantee, "changed", { scopes: p.scopes, expires_at: expiry(p.expiresAt) });
        break;
      case "AccessRevoked":
        update(this.grants, `${p.patient}|${p.grantee}`, { revoked_at: at, updated_at: at });
        history(p.grantee, "revoked");
        break;
      case "EmergencyAccessOpened":
        this.emergency_access.set(`${p.patient}|${p.doctor}`, {
          patient: p.patient,
          doctor: p.doctor,
          expires_at: seconds(p.expiresAt),
          reason_hash: p.reasonHash,
          opened_at: at,
          closed_at: null,
        });
        history(p.doctor, "emergency_opened", {
          expires_at: seconds(p.expiresAt),
          reason_hash: p.reasonHash,
        });
        break;
      case "EmergencyAccessClosed":
        update(this.emergency_access, `${p.patient}|${p.doctor}`, { closed_at: at });
        history(p.doctor, "emergency_closed");
        break;
      case "RecordAdded":
        this.records.set(p.recordId, {
          record_id: p.recordId,
          patient: p.patient,
          author: p.author,
          submitter: p.submitter,
          record_type: p.recordType,
          content_hash: p.contentHash,
          storage_pointer: p.storagePointer,
          previous_record_id: zero(p.previousRecordId) ? null : p.previousRecordId,
          root_record_id: zero(p.rootRecordId) ? p.recordId : p.rootRecordId,
          version: p.version,
          superseded_by: null,
          block_number: e.blockNumber,
          block_time: at,
          log_index: e.logIndex,
          event_id: e.id,
        });
        if (!zero(p.previousRecordId))
          update(this.records, p.previousRecordId, { superseded_by: p.recordId });
        break;
      case "DeviceAuthorized":
        this.devices.set(p.device, {
          device: p.device,
          patient: p.patient,
          authorized_at: at,
          revoked_at: null,
        });
        break;
      case "DeviceRevoked":
        update(this.devices, p.device, { revoked_at: at });
        break;
      case "VitalsRangeSet":
        this.vitals_ranges.set(p.patient, {
          patient: p.patient,
          set_by: p.setBy,
          systolic_min: p.systolicMin,
          systolic_max: p.systolicMax,
          diastolic_min: p.diastolicMin,
          diastolic_max: p.diastolicMax,
          updated_at: at,
        });
        break;
      case "AlertRecipientsSet":
        this.alert_recipients.set(p.patient, {
          patient: p.patient,
          recipients: p.recipients,
          updated_at: at,
        });
        break;
      case "VitalsReported":
      case "VitalsAlert":
        (e.type === "VitalsAlert" ? this.alerts : this.vital_readings).set(e.id, {
          event_id: e.id,
          patient: p.patient,
          device: p.device,
          measured_at: seconds(p.measuredAt),
          systolic: p.systolic,
          diastolic: p.diastolic,
          // Generated streams carry no confirmations and no chain clock: every alert stays provisional.
          ...(e.type === "VitalsAlert"
            ? { recipients: p.recipients, final: false, final_event_id: null }
            : {}),
          block_number: e.blockNumber,
          block_time: at,
        });
        break;
    }
  }

  dump(): Omit<Dump, "events" | "dead_letters"> {
    const keys = {
      patients: ["address"],
      doctors: ["address"],
      organizations: ["address"],
      grants: ["patient", "grantee"],
      grant_history: ["event_id"],
      emergency_access: ["patient", "doctor"],
      records: ["record_id"],
      devices: ["device"],
      vitals_ranges: ["patient"],
      alert_recipients: ["patient"],
      vital_readings: ["event_id"],
      alerts: ["event_id"],
    } as const;
    return Object.fromEntries(
      Object.entries(keys).map(([table, key]) => [
        table,
        sortBy([...this[table as keyof typeof keys].values()], key),
      ]),
    ) as Omit<Dump, "events" | "dead_letters">;
  }
}

/** Byte-order sort on key columns, as the dump's ORDER BY ... COLLATE "C". */
function sortBy(rows: Row[], key: readonly string[]): Row[] {
  const k = (row: Row) => key.map((column) => String(row[column]));
  return rows.sort((a, b) => {
    const [x, y] = [k(a), k(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
}
