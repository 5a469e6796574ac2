// The seeded population, derived deterministically from a seed string: the same seed and scale always give
// the same accounts, grants, record ids and readings, so that seeding can be re-run without duplicating.
// Only hashes, keys and codes: no personal data (profile hashes stand for the encrypted profiles).
import { type Address, encodePacked, type Hex, keccak256 } from "viem";
import { privateKeyToAddress } from "viem/accounts";

/** The reference size the targets are promised at (`--scale 1`). */
export const referenceSize = {
  patients: 10_000,
  doctors: 500,
  grants: 50_000,
  records: 200_000,
  readings: 500_000,
} as const;

export type PopulationSize = { -readonly [K in keyof typeof referenceSize]: number };

/** Readings per submitReadings transaction (the contract's maximum). */
export const READINGS_PER_BATCH = 100;
/** Minutes between two readings of one patient. */
const READING_INTERVAL_S = 600;

/** `scale` times the reference size, with a floor that keeps every kind of data present. */
export function populationSize(scale: number): PopulationSize {
  if (!(scale > 0)) throw new RangeError(`scale must be > 0 (got ${scale})`);
  const patients = Math.max(4, Math.round(referenceSize.patients * scale));
  const doctors = Math.max(2, Math.round(referenceSize.doctors * scale));
  const grants = Math.min(patients * doctors, Math.max(patients, Math.round(referenceSize.grants * scale)));
  const records = Math.max(patients, Math.round(referenceSize.records * scale));
  const readings = Math.max(patients, Math.round(referenceSize.readings * scale));
  return { patients, doctors, grants, records, readings };
}

export type RecordSpec = {
  id: Hex;
  patient: number;
  /** The doctor index who writes it, or "self" for a patient upload. */
  author: number | "self";
  recordType: number;
  contentHash: Hex;
  storagePointer: Hex;
};

export type ReadingSpec = { measuredAt: bigint; systolic: number; diastolic: number };

/** Record types written by doctors (1..7); 8 is a patient upload. */
const DOCTOR_RECORD_TYPES = 7;
const RECORD_PATIENT_UPLOAD = 8;
/** Every fifth record of a patient is their own upload. */
const SELF_UPLOAD_EVERY = 5;

export class Population {
  readonly size: PopulationSize;
  private readonly addresses = new Map<string, Address>();
  private byDoctor: number[][] | undefined;

  constructor(
    readonly seed: string,
    size: PopulationSize,
  ) {
    this.size = { ...size };
  }

  private hash(...parts: (string | number)[]): Hex {
    return keccak256(
      encodePacked(
        ["string", ...parts.map((part) => (typeof part === "number" ? "uint256" : "string"))],
        [this.seed, ...parts.map((part) => (typeof part === "number" ? BigInt(part) : part))],
      ),
    );
  }

  // -- accounts ---------------------------------------------------------------------------------------------

  patientKey(i: number): Hex {
    return this.hash("patient", i);
  }
  doctorKey(j: number): Hex {
    return this.hash("doctor", j);
  }
  /** The hospital that verifies the doctors (a registrar). */
  hospitalKey(): Hex {
    return this.hash("hospital", 0);
  }

  patient(i: number): Address {
    return this.addressOf(`p${i}`, () => this.patientKey(i));
  }
  doctor(j: number): Address {
    return this.addressOf(`d${j}`, () => this.doctorKey(j));
  }
  hospital(): Address {
    return this.addressOf("h", () => this.hospitalKey());
  }
  /** A patient's wearable: an address only (devices send through anvil's impersonation, they need no key). */
  device(i: number): Address {
    return `0x${this.hash("device", i).slice(26)}` as Address;
  }

  private addressOf(key: string, privateKey: () => Hex): Address {
    let address = this.addresses.get(key);
    if (!address) {
      address = privateKeyToAddress(privateKey()).toLowerCase() as Address;
      this.addresses.set(key, address);
    }
    return address;
  }

  profile(kind: "patient" | "doctor" | "hospital", i: number) {
    return {
      profileHash: this.hash(kind, "profile", i),
      encryptionKey: this.hash(kind, "x25519", i),
      licenseHash: this.hash(kind, "license", i),
    };
  }

  // -- grants: patient i grants consecutive doctors, so that every doctor gets about the same number --------

  grantsOfPatient(i: number): number {
    const { patients, grants, doctors } = this.size;
    return Math.min(doctors, Math.floor(grants / patients) + (i < grants % patients ? 1 : 0));
  }

  /** The doctors patient i granted access to (all scopes, no expiry). */
  doctorsOfPatient(i: number): number[] {
    const count = this.grantsOfPatient(i);
    const per = Math.floor(this.size.grants / this.size.patients);
    const start = (i * Math.max(per, 1)) % this.size.doctors;
    return Array.from({ length: count }, (_, m) => (start + m) % this.size.doctors);
  }

  /** The patients of doctor j (inverse of doctorsOfPatient), in patient order. */
  patientsOfDoctor(j: number): number[] {
    if (!this.byDoctor) {
      const byDoctor: number[][] = Array.from({ length: this.size.doctors }, () => []);
      for (let i = 0; i < this.size.patients; i++)
        for (const d of this.doctorsOfPatient(i)) byDoctor[d]!.push(i);
      this.byDoctor = byDoctor;
    }
    return this.byDoctor[j] ?? [];
  }

  // -- records ----------------------------------------------------------------------------------------------

  recordsOfPatient(i: number): number {
    const { patients, records } = this.size;
    return Math.floor(records / patients) + (i < records % patients ? 1 : 0);
  }

  record(i: number, m: number): RecordSpec {
    const id = this.hash("record", i, m);
    const doctors = this.doctorsOfPatient(i);
    const self = doctors.length === 0 || m % SELF_UPLOAD_EVERY === SELF_UPLOAD_EVERY - 1;
    const contentHash = keccak256(id);
    return {
      id,
      patient: i,
      author: self ? "self" : doctors[m % doctors.length]!,
      recordType: self ? RECORD_PATIENT_UPLOAD : 1 + (m % DOCTOR_RECORD_TYPES),
      contentHash,
      // An encrypted storage pointer stands in as 64 opaque bytes.
      storagePointer: `0x${keccak256(contentHash).slice(2)}${keccak256(id).slice(2)}` as Hex,
    };
  }

  // -- vital readings ---------------------------------------------------------------------------------------

  readingsOfPatient(i: number): number {
    const { patients, readings } = this.size;
    return Math.floor(readings / patients) + (i < readings % patients ? 1 : 0);
  }

  /** Reading m of patient i, the last one `READING_INTERVAL_S` before `now` (chain time, seconds). */
  reading(i: number, m: number, now: bigint): ReadingSpec {
    const count = this.readingsOfPatient(i);
    const h = BigInt(this.hash("reading", i, m));
    const systolic = 100 + Number(h % 55n);
    const diastolic = 60 + Number((h >> 8n) % 35n);
    return { measuredAt: now - BigInt((count - m) * READING_INTERVAL_S), systolic, diastolic };
  }

  /** Readings batches of patient i ([from, to) reading indexes), READINGS_PER_BATCH at most each. */
  readingBatches(i: number): [number, number][] {
    const count = this.readingsOfPatient(i);
    const batches: [number, number][] = [];
    for (let from = 0; from < count; from += READINGS_PER_BATCH) {
      batches.push([from, Math.min(count, from + READINGS_PER_BATCH)]);
    }
    return batches;
  }
}
