import type { EventEnvelope, EventName, EventPayload } from "@carechain/common";
import { address, hex32, makeEnvelope, retractionOf } from "./envelopes.ts";
import { random } from "./random.ts";

type Hex = `0x${string}`;

export type GenerateOptions = {
  /** Share of steps that re-send an earlier message unchanged (default 0.05). */
  duplicates?: number;
  /** Share of steps that retract the latest few events, newest first, as a reorg does (default 0.03). */
  reorgs?: number;
  /** Cap on accounts, so that later events hit existing rows (default 40). */
  accounts?: number;
};

/**
 * A deterministic stream of valid envelopes as ingest would publish it: registrations, grants and their
 * changes and revocations, emergency access, records and amendments, devices, ranges, recipients, readings
 * with alerts, plus duplicates and reorgs (retractions of the latest events, newest first, then sometimes
 * the same events again in a sibling block). Every row is changed only by events of one partition key, as
 * on chain, so per-partition order is all that matters.
 */
export function generateEvents(seed: number, count: number, options: GenerateOptions = {}): EventEnvelope[] {
  const rnd = random(seed);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(rnd() * items.length)];
  const maxAccounts = options.accounts ?? 40;
  const out: EventEnvelope[] = [];
  const forward: EventEnvelope[] = []; // applied events since the last reorg: the ones a reorg may retract
  let block = 1;
  let logIndex = 0;
  let fork = "main";
  let n = 0;

  const patients: Hex[] = [];
  const doctors: Hex[] = [];
  const orgs: Hex[] = [];
  const hospitals: Hex[] = [];
  const grants = new Map<string, boolean>(); // patient|grantee -> revoked
  const records = new Map<Hex, { patient: Hex; type: number; root: Hex; version: number }>();
  const latest: Hex[] = []; // latest version ids
  const devices = new Map<Hex, Hex[]>(); // patient -> devices

  function emit<N extends EventName>(type: N, payload: EventPayload<N>): EventEnvelope<N> {
    if (rnd() < 0.4) {
      block++;
      logIndex = 0;
    }
    const envelope = makeEnvelope(type, payload, { block, logIndex: logIndex++, fork });
    out.push(envelope as EventEnvelope);
    forward.push(envelope as EventEnvelope);
    return envelope;
  }
  const now = () => 1_700_000_000 + block * 2;
  const expiryChoice = (): string => {
    const r = rnd();
    if (r < 0.3) return "0";
    if (r < 0.45) return String(now() - 1000); // already expired
    if (r < 0.5) return "18446744073709551615"; // uint64 max: beyond any timestamp
    return String(now() + 3600 + Math.floor(rnd() * 1e6));
  };

  while (out.length < count) {
    const r = rnd();
    if (r < (options.duplicates ?? 0.05) && out.length > 0) {
      out.push(pick(out)!);
      continue;
    }
    if (r < (options.duplicates ?? 0.05) + (options.reorgs ?? 0.03) && forward.length > 0) {
      const k = 1 + Math.floor(rnd() * Math.min(4, forward.length));
      const retracted = forward.splice(forward.length - k, k).reverse();
      for (const event of retracted) out.push(retractionOf(event));
      if (rnd() < 0.2) out.push(retractionOf(pick(retracted)!)); // retracted twice: a no-op
      if (rnd() < 0.2)
        out.push(
          retractionOf(
            makeEnvelope(
              "DeviceRevoked",
              {
                patient: address("nobody"),
                device: address("no-device"),
              },
              { block: 999_999, logIndex: 0, fork: "ghost" },
            ),
          ),
        ); // unknown id: a no-op
      forward.length = 0; // the next reorg retracts only what came after this one
      fork = `fork${++n}`;
      block++;
      logIndex = 0;
      continue;
    }
    step();
  }
  return out.slice(0, count);

  function step(): void {
    const r = rnd();
    const account = () => address(`account:${n++}`);
    if (r < 0.08 || patients.length === 0) {
      if (patients.length >= maxAccounts) return;
      const patient = account();
      patients.push(patient);
      emit("PatientRegistered", { patient, profileHash: hex32(`p:${n}`), encryptionKey: hex32(`k:${n}`) });
    } else if (r < 0.12 || doctors.length === 0) {
      if (doctors.length >= maxAccounts / 2) return;
      const doctor = account();
      doctors.push(doctor);
      emit("DoctorRegistered", {
        doctor,
        profileHash: hex32(`p:${n}`),
        encryptionKey: hex32(`k:${n}`),
        licenseHash: hex32(`l:${n}`),
      });
    } else if (r < 0.15) {
      if (orgs.length >= maxAccounts / 4) return;
      const organization = account();
      const kind = 1 + Math.floor(rnd() * 5);
      orgs.push(organization);
      if (kind === 1) hospitals.push(organization);
      emit("OrganizationRegistered", {
        organization,
        kind,
        profileHash: hex32(`p:${n}`),
        encryptionKey: hex32(`k:${n}`),
      });
    } else if (r < 0.18) {
      const who = pick([...patients, ...doctors, ...orgs])!;
      emit("ProfileUpdated", {
        account: who,
        profileHash: hex32(`p:${n++}`),
        encryptionKey: hex32(`k:${n}`),
      });
    } else if (r < 0.2 && hospitals.length > 0) {
      emit("RegistrarSet", { organization: pick(hospitals)!, enabled: rnd() < 0.8 });
    } else if (r < 0.24 && hospitals.length > 0) {
      const type = rnd() < 0.8 ? "DoctorVerified" : "DoctorVerificationRevoked";
      emit(type, { doctor: pick(doctors)!, registrar: pick(hospitals)! });
    } else if (r < 0.36) {
      const patient = pick(patients)!;
      const grantee = pick([...doctors, ...orgs])!;
      const key = `${patient}|${grantee}`;
      const revoked = grants.get(key);
      if (revoked === undefined || revoked) {
        grants.set(key, false);
        emit("AccessGranted", {
          patient,
          grantee,
          scopes: 1 + Math.floor(rnd() * 7),
          expiresAt: expiryChoice(),
        });
      } else if (rnd() < 0.5) {
        emit("AccessChanged", {
          patient,
          grantee,
          scopes: 1 + Math.floor(rnd() * 7),
          expiresAt: expiryChoice(),
        });
      } else {
        grants.set(key, true);
        emit("AccessRevoked", { patient, grantee });
      }
    } else if (r < 0.42) {
      const patient = pick(patients)!;
      const doctor = pick(doctors)!;
      if (rnd() < 0.6) {
        emit("EmergencyAccessOpened", {
          patient,
          doctor,
          expiresAt: String(now() + (rnd() < 0.3 ? -10 : 3600)),
          reasonHash: hex32(`reason:${n++}`),
        });
      } else {
        emit("EmergencyAccessClosed", { patient, doctor });
      }
    } else if (r < 0.58) {
      const amend = latest.length > 0 && rnd() < 0.35;
      const recordId = hex32(`record:${n++}`);
      if (amend) {
        const previousRecordId = pick(latest)!;
        const previous = records.get(previousRecordId)!;
        latest.splice(latest.indexOf(previousRecordId), 1, recordId);
        records.set(recordId, { ...previous, version: previous.version + 1 });
        emit("RecordAdded", {
          recordId,
          patient: previous.patient,
          author: pick(doctors)!,
          recordType: previous.type,
          contentHash: hex32(`content:${n}`),
          storagePointer: `0x${hex32(`ptr:${n}`).slice(2, 2 + 2 * (8 + Math.floor(rnd() * 24)))}`,
          previousRecordId,
          rootRecordId: previous.root,
          version: previous.version + 1,
          submitter: pick([...doctors, ...hospitals])!,
        });
      } else {
        const patient = pick(patients)!;
        const type = 1 + Math.floor(rnd() * 8);
        records.set(recordId, { patient, type, root: recordId, version: 1 });
        latest.push(recordId);
        emit("RecordAdded", {
          recordId,
          patient,
          author: rnd() < 0.8 ? pick(doctors)! : patient,
          recordType: type,
          contentHash: hex32(`content:${n}`),
          storagePointer: hex32(`ptr:${n}`),
          previousRecordId: `0x${"0".repeat(64)}`,
          rootRecordId: rnd() < 0.5 ? recordId : `0x${"0".repeat(64)}`,
          version: 1,
          submitter: patient,
        });
      }
    } else if (r < 0.63) {
      const patient = pick(patients)!;
      const mine = devices.get(patient) ?? [];
      if (mine.length === 0 || rnd() < 0.5) {
        const device = address(`device:${patient}:${n++}`);
        devices.set(patient, [...mine, device]);
        emit("DeviceAuthorized", { patient, device });
      } else {
        emit("DeviceRevoked", { patient, device: pick(mine)! });
      }
    } else if (r < 0.67) {
      const patient = pick(patients)!;
      emit("VitalsRangeSet", {
        patient,
        setBy: rnd() < 0.5 ? patient : pick(doctors)!,
        systolicMin: 90 + Math.floor(rnd() * 10),
        systolicMax: 130 + Math.floor(rnd() * 20),
        diastolicMin: 60,
        diastolicMax: 85 + Math.floor(rnd() * 10),
      });
    } else if (r < 0.7) {
      const k = Math.floor(rnd() * 4);
      emit("AlertRecipientsSet", {
        patient: pick(patients)!,
        recipients: Array.from({ length: k }, () => pick(doctors)!),
      });
    } else {
      const patient = pick(patients)!;
      const device = devices.get(patient)?.[0] ?? address(`device:${patient}`);
      const measuredAt = now() - Math.floor(rnd() * 600);
      const systolic = 90 + Math.floor(rnd() * 100);
      const diastolic = 50 + Math.floor(rnd() * 40);
      emit("VitalsReported", { patient, device, measuredAt: String(measuredAt), systolic, diastolic });
      if (systolic > 150) {
        emit("VitalsAlert", {
          patient,
          device,
          measuredAt: String(measuredAt),
          systolic,
          diastolic,
          recipients: [pick(doctors)!],
        });
      }
    }
  }
}
