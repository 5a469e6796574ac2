// The k6 data file: signed-in viewers drawn from the seeded population (tokens from the gateway's real
// Sign-In with Ethereum flow), the operations, and what the legacy reads and the writes need of the chain.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Deployment } from "@carechain/contracts";
import { signIn } from "@carechain/gateway/client";
import { operations } from "@carechain/gateway/operations";
import { type Address, toEventSelector, toFunctionSelector, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type Say, seconds } from "./paths.ts";
import type { Population } from "./population.ts";
import { forEachConcurrent } from "./rpc.ts";

export type Viewer = { address: Address; token: string };
export type DoctorViewer = Viewer & { patients: Address[] };

export type K6Data = {
  gatewayUrl: string;
  operations: Record<string, string>;
  chain: {
    rpcUrl: string;
    fromBlock: string;
    contracts: { identity: Address; consent: Address; records: Address; vitals: Address };
    selectors: Record<string, string>;
    topics: Record<string, string>;
  };
  patients: Viewer[];
  doctors: DoctorViewer[];
  recordWriters: { doctor: Address; patient: Address }[];
  devices: { device: Address; patient: Address }[];
};

const functions = [
  "profileHashOf(address)",
  "encryptionKeyOf(address)",
  "roleOf(address)",
  "isVerifiedDoctor(address)",
  "recordCount(address)",
  "recordIdAt(address,uint256)",
  "recordOf(bytes32)",
  "grantOf(address,address)",
  "rangeOf(address)",
  "addRecord(address,bytes32,uint16,bytes32,bytes)",
  "submitReadings((uint64,uint16,uint16)[])",
];

const events = [
  "PatientRegistered(address,bytes32,bytes32)",
  "DoctorRegistered(address,bytes32,bytes32,bytes32)",
  "DoctorVerified(address,address)",
  "AccessGranted(address,address,uint8,uint64)",
  "AccessChanged(address,address,uint8,uint64)",
  "AccessRevoked(address,address)",
  "RecordAdded(bytes32,address,address,uint16,bytes32,bytes,bytes32,bytes32,uint32,address)",
  "VitalsReported(address,address,uint64,uint16,uint16)",
];

/** Selectors and topics by name ("profileHashOf", "VitalsReported"), as the k6 scripts use them. */
export function chainVocabulary() {
  const name = (signature: string) => signature.slice(0, signature.indexOf("("));
  return {
    selectors: Object.fromEntries(functions.map((f) => [name(f), toFunctionSelector(f)])),
    topics: Object.fromEntries(events.map((e) => [name(e), toEventSelector(e)])),
  };
}

/**
 * Signs in `patients` patients and `doctors` doctors (spread over the population) and returns the data file
 * content. Writers: doctor/patient pairs with a write grant, and wearables, for the mixed workload.
 */
export async function prepareViewers(options: {
  gatewayUrl: string;
  rpcUrl: string;
  deployment: Deployment;
  population: Population;
  patients: number;
  doctors: number;
  writers?: number;
  say: Say;
}): Promise<K6Data> {
  const pop = options.population;
  const started = Date.now();
  const spread = (total: number, count: number) => {
    const n = Math.min(total, count);
    return Array.from({ length: n }, (_, k) => Math.floor((k * total) / n));
  };
  const patientIndexes = spread(pop.size.patients, options.patients);
  const doctorIndexes = spread(pop.size.doctors, options.doctors);
  const tokens = new Map<string, string>();
  const jobs = [
    ...patientIndexes.map((i) => pop.patientKey(i)),
    ...doctorIndexes.map((j) => pop.doctorKey(j)),
  ];
  await forEachConcurrent(jobs, 8, async (key) => {
    const account = privateKeyToAccount(key);
    const { token } = await signIn({ url: options.gatewayUrl, account });
    tokens.set(account.address.toLowerCase(), token);
  });
  options.say(
    `signed in ${jobs.length} viewers through Sign-In with Ethereum in ${seconds(Date.now() - started)}`,
  );

  const patients = patientIndexes.map((i) => ({
    address: pop.patient(i),
    token: tokens.get(pop.patient(i))!,
  }));
  const doctors = doctorIndexes.map((j) => ({
    address: pop.doctor(j),
    token: tokens.get(pop.doctor(j))!,
    patients: pop
      .patientsOfDoctor(j)
      .slice(0, 50)
      .map((i) => pop.patient(i)),
  }));
  // Writers: distinct doctors (two writer VUs never share an account: the node assigns nonces per account),
  // each with one of their patients; and wearables.
  const writers = options.writers ?? 50;
  const recordWriters = spread(pop.size.doctors, writers)
    .filter((j) => pop.patientsOfDoctor(j).length > 0)
    .map((j) => ({ doctor: pop.doctor(j), patient: pop.patient(pop.patientsOfDoctor(j)[0]!) }));
  const devices = spread(pop.size.patients, writers).map((i) => ({
    device: pop.device(i),
    patient: pop.patient(i),
  }));
  const c = options.deployment.contracts;
  return {
    gatewayUrl: `${options.gatewayUrl.replace(/\/+$/, "").replace(/\/graphql$/, "")}/graphql`,
    operations: { ...operations },
    chain: {
      rpcUrl: options.rpcUrl,
      fromBlock: toHex(options.deployment.startBlock),
      contracts: {
        identity: c.IdentityRegistry.address,
        consent: c.ConsentManager.address,
        records: c.RecordRegistry.address,
        vitals: c.VitalsMonitor.address,
      },
      ...chainVocabulary(),
    },
    patients,
    doctors,
    recordWriters,
    devices,
  };
}

export function writeK6Data(file: string, data: K6Data): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(data));
}
