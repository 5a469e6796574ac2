// One generated sequence of contract events, as envelopes (the indexer's test kit makes them), that both
// the projector and the subgraph fold: seeded, so a failure can be replayed with the same seed. It keeps
// to what the contracts allow (registered accounts only, a verified doctor for emergency access, an
// amendment of the latest version, readings from an authorized device, an alert right after its reading in
// the same transaction), so every reference resolves on both sides.
import type { EventEnvelope, EventName, EventPayload } from "@carechain/common";
import { makeEnvelope, random as seededRandom } from "@carechain/indexer/testing";

type Hex = `0x${string}`;

/** Seconds between blocks. */
const BLOCK_SECONDS = 600;
const DAY = 24 * 3600;

interface GrantState {
  revoked: boolean;
  expiresAt: number;
}

export interface Sequence {
  envelopes: EventEnvelope[];
  /** The reader's clock the expiry questions are judged at (after the last block). */
  now: number;
  patients: Hex[];
  doctors: Hex[];
  organizations: Hex[];
}

/**
 * About 60 blocks of random steps after the registrations, plus a fixed tail that guarantees the cases
 * where the two sides differ by design: a grant and an emergency access that expired after their last
 * event but before `now`, and an open emergency access of a doctor whose verification was then revoked.
 */
export function generateSequence(seed: number, now: number): Sequence {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;
  const hex = (bytes: number): Hex => {
    let out = "";
    while (out.length < bytes * 2)
      out += Math.floor(random() * 0x100000000)
        .toString(16)
        .padStart(8, "0");
    return `0x${out.slice(0, bytes * 2)}`;
  };
  const address = (): Hex => hex(20);

  const genesis = now - 20 * DAY;
  const envelopes: EventEnvelope[] = [];
  let block = 0;
  let logIndex = 0;
  const time = () => genesis + block * BLOCK_SECONDS;
  const nextBlock = () => {
    block++;
    logIndex = 0;
  };
  const emit = <N extends EventName>(type: N, payload: EventPayload<N>, txHash?: Hex): EventEnvelope<N> => {
    const envelope = makeEnvelope(type, payload, { block, logIndex: logIndex++, timestamp: time() });
    const out = txHash ? { ...envelope, txHash } : envelope;
    envelopes.push(out as EventEnvelope);
    return out;
  };

  const patients = Array.from({ length: 5 }, address);
  const doctors = Array.from({ length: 4 }, address);
  const [hospital, insurer, laboratory] = [address(), address(), address()] as [Hex, Hex, Hex];
  const organizations = [hospital, insurer, laboratory];
  const accounts = [...patients, ...doctors, ...organizations];
  const devices = Array.from({ length: 3 }, address);

  nextBlock();
  // No arguments: viem types the payload as an empty tuple; on the wire (and in the envelope) it is {}.
  emit("EIP712DomainChanged", {} as unknown as EventPayload<"EIP712DomainChanged">);
  emit("OwnershipTransferred", { previousOwner: `0x${"0".repeat(40)}`, newOwner: address() });
  for (const patient of patients)
    emit("PatientRegistered", { patient, profileHash: hex(32), encryptionKey: hex(32) });
  nextBlock();
  for (const doctor of doctors) {
    emit("DoctorRegistered", { doctor, profileHash: hex(32), encryptionKey: hex(32), licenseHash: hex(32) });
  }
  organizations.forEach((organization, index) => {
    emit("OrganizationRegistered", {
      organization,
      kind: index + 1,
      profileHash: hex(32),
      encryptionKey: hex(32),
    });
  });
  nextBlock();
  emit("RegistrarSet", { organization: hospital, enabled: true });
  const verified = new Set<Hex>();
  for (const doctor of doctors.slice(0, 3)) {
    emit("DoctorVerified", { doctor, registrar: hospital });
    verified.add(doctor);
  }

  const grants = new Map<string, GrantState>();
  const emergencies = new Map<string, { closed: boolean; expiresAt: number }>();
  const latestVersions = new Map<Hex, { patient: Hex; version: number; root: Hex; recordType: number }>();
  const deviceOwner = new Map<Hex, Hex | null>();
  const measuredAt = new Map<Hex, number>();
  const hasRange = new Set<Hex>();
  const key = (a: Hex, b: Hex) => `${a}|${b}`;
  const isActive = (grant: GrantState | undefined) =>
    !!grant && !grant.revoked && (grant.expiresAt === 0 || time() < grant.expiresAt);
  // 0: no expiry; soon after this block (expired well before now); after the last block but before now;
  // after now.
  const expiry = () => pick([0, 0, time() + 2 * BLOCK_SECONDS, genesis + 10 * DAY, now + 30 * DAY]);

  const steps: (() => void)[] = [
    () => {
      const patient = pick(patients);
      const grantee = pick(accounts.filter((a) => a !== patient));
      const expiresAt = expiry();
      emit("AccessGranted", {
        patient,
        grantee,
        scopes: 1 + Math.floor(random() * 7),
        expiresAt: String(expiresAt),
      });
      grants.set(key(patient, grantee), { revoked: false, expiresAt });
    },
    () => {
      const active = [...grants.entries()].filter(([, grant]) => isActive(grant));
      if (active.length === 0) return;
      const [pair, grant] = pick(active);
      const [patient, grantee] = pair.split("|") as [Hex, Hex];
      grant.expiresAt = expiry();
      emit("AccessChanged", {
        patient,
        grantee,
        scopes: 1 + Math.floor(random() * 7),
        expiresAt: String(grant.expiresAt),
      });
    },
    () => {
      const open = [...grants.entries()].filter(([, grant]) => !grant.revoked);
      if (open.length === 0) return;
      const [pair, grant] = pick(open);
      const [patient, grantee] = pair.split("|") as [Hex, Hex];
      grant.revoked = true;
      emit("AccessRevoked", { patient, grantee });
    },
    () => {
      if (verified.size === 0) return;
      const patient = pick(patients);
      const doctor = pick([...verified]);
      const expiresAt = pick([time() + 3600, now + DAY]);
      emit("EmergencyAccessOpened", { patient, doctor, expiresAt: String(expiresAt), reasonHash: hex(32) });
      emergencies.set(key(patient, doctor), { closed: false, expiresAt });
    },
    () => {
      const open = [...emergencies.entries()].filter(([, access]) => !access.closed);
      if (open.length === 0) return;
      const [pair, access] = pick(open);
      const [patient, doctor] = pair.split("|") as [Hex, Hex];
      access.closed = true;
      emit("EmergencyAccessClosed", { patient, doctor });
    },
    () => {
      const doctor = pick(doctors);
      if (verified.has(doctor)) {
        emit("DoctorVerificationRevoked", { doctor, registrar: hospital });
        verified.delete(doctor);
      } else {
        emit("DoctorVerified", { doctor, registrar: hospital });
        verified.add(doctor);
      }
    },
    () => {
      const patient = pick(patients);
      const author = chance(0.3) ? patient : pick(doctors);
      const recordId = hex(32);
      const recordType = author === patient ? 8 : 1 + Math.floor(random() * 7);
      emit("RecordAdded", {
        recordId,
        patient,
        author,
        recordType,
        contentHash: hex(32),
        storagePointer: hex(16 + Math.floor(random() * 48)),
        previousRecordId: `0x${"0".repeat(64)}`,
        rootRecordId: chance(0.5) ? recordId : `0x${"0".repeat(64)}`,
        version: 1,
        submitter: author !== patient && chance(0.3) ? hospital : author,
      });
      latestVersions.set(recordId, { patient, version: 1, root: recordId, recordType });
    },
    () => {
      if (latestVersions.size === 0) return;
      const [previousRecordId, previous] = pick([...latestVersions.entries()]);
      const recordId = hex(32);
      const author = pick(doctors);
      emit("RecordAdded", {
        recordId,
        patient: previous.patient,
        author,
        recordType: previous.recordType,
        contentHash: hex(32),
        storagePointer: hex(32),
        previousRecordId,
        rootRecordId: previous.root,
        version: previous.version + 1,
        submitter: chance(0.5) ? hospital : author,
      });
      latestVersions.delete(previousRecordId);
      latestVersions.set(recordId, { ...previous, version: previous.version + 1 });
    },
    () => {
      const device = pick(devices);
      const owner = deviceOwner.get(device);
      if (owner) {
        emit("DeviceRevoked", { patient: owner, device });
        deviceOwner.set(device, null);
      } else {
        const patient = pick(patients);
        emit("DeviceAuthorized", { patient, device });
        deviceOwner.set(device, patient);
      }
    },
    () => {
      const patient = pick(patients);
      const setBy = chance(0.5) ? patient : pick(doctors);
      emit("VitalsRangeSet", {
        patient,
        setBy,
        systolicMin: 90,
        systolicMax: 130 + Math.floor(random() * 20),
        diastolicMin: 60,
        diastolicMax: 85 + Math.floor(random() * 10),
      });
      hasRange.add(patient);
    },
    () => {
      const patient = pick(patients);
      const recipients = accounts.filter((a) => a !== patient && chance(0.3)).slice(0, 10);
      emit("AlertRecipientsSet", { patient, recipients });
    },
    () => {
      const owned = [...deviceOwner.entries()].filter(([, owner]) => owner !== null) as [Hex, Hex][];
      if (owned.length === 0) return;
      const [device, patient] = pick(owned);
      // Strictly later per patient, so that "the latest reading" has one answer.
      const at = Math.max((measuredAt.get(patient) ?? 0) + 1, time() - Math.floor(random() * 300));
      measuredAt.set(patient, at);
      const out = hasRange.has(patient) && chance(0.5);
      const systolic = out ? 160 + Math.floor(random() * 30) : 110 + Math.floor(random() * 15);
      const diastolic = out ? 100 : 70 + Math.floor(random() * 10);
      const reading = emit("VitalsReported", {
        patient,
        device,
        measuredAt: String(at),
        systolic,
        diastolic,
      });
      if (out) {
        const recipients = accounts.filter((a) => a !== patient && chance(0.3)).slice(0, 10);
        emit(
          "VitalsAlert",
          { patient, device, measuredAt: String(at), systolic, diastolic, recipients },
          reading.txHash as Hex,
        );
      }
    },
    () => {
      const account = pick(accounts);
      emit("ProfileUpdated", { account, profileHash: hex(32), encryptionKey: hex(32) });
    },
  ];

  for (let i = 0; i < 60; i++) {
    nextBlock();
    const count = 1 + Math.floor(random() * 3);
    for (let j = 0; j < count; j++) pick(steps)();
  }

  // The tail: the cases that differ by design, whatever the random steps did.
  nextBlock();
  const [p0, p1] = patients as [Hex, Hex];
  const [d0, d1] = doctors as [Hex, Hex];
  emit("AccessGranted", { patient: p0, grantee: insurer, scopes: 1, expiresAt: String(time() + DAY) });
  emit("AccessGranted", { patient: p1, grantee: d1, scopes: 7, expiresAt: String(now + 30 * DAY) });
  if (!verified.has(d0)) emit("DoctorVerified", { doctor: d0, registrar: hospital });
  emit("EmergencyAccessOpened", {
    patient: p1,
    doctor: d0,
    expiresAt: String(time() + DAY),
    reasonHash: hex(32),
  });
  emit("EmergencyAccessOpened", {
    patient: p0,
    doctor: d0,
    expiresAt: String(now + DAY),
    reasonHash: hex(32),
  });
  if (!verified.has(d1)) emit("DoctorVerified", { doctor: d1, registrar: hospital });
  emit("EmergencyAccessOpened", {
    patient: p0,
    doctor: d1,
    expiresAt: String(now + DAY),
    reasonHash: hex(32),
  });
  nextBlock();
  emit("DoctorVerificationRevoked", { doctor: d1, registrar: hospital });
  return { envelopes, now, patients, doctors, organizations };
}
