// The chain part of the seeder (seed.ts is its CLI): sends whatever part of the population is missing on
// chain, fast: funded and impersonated accounts, explicit nonces, JSON-RPC batches, blocks mined in bulk.
//
// Re-runnable: accounts, record ids and readings derive from the seed; what is already on chain is skipped
// (roles, grants, record counts, device nonces), and a marker per phase skips the checks on the next run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { formatDuration, NonRetryableError } from "@carechain/common";
import { type Deployment, deploymentId } from "@carechain/contracts";
import { type Abi, type Address, decodeFunctionResult, encodeFunctionData, type Hex } from "viem";
import { abis, prepareAccounts, sendAll, type Tx } from "./chain.ts";
import { say as defaultSay, type Say, seconds } from "./paths.ts";
import type { Population } from "./population.ts";
import type { JsonRpc, RpcCall } from "./rpc.ts";

const SCOPES_ALL = 7;
/** The four ABIs without their literal types: calls here are built from names at run time. */
const looseAbis: Record<keyof typeof abis, Abi> = abis;
const ORG_HOSPITAL = 1;

export type SeedOptions = {
  rpc: JsonRpc;
  deployment: Deployment;
  population: Population;
  mining: "bulk" | "automine";
  /** Phases done by an earlier run are skipped unless `verify`. */
  markerFile?: string;
  verify?: boolean;
  say?: Say;
};

export type SeedReport = {
  /** Transactions sent per phase (0 when everything was there). */
  sent: Record<string, number>;
  transactions: number;
  ms: number;
  /** Transactions per second over the sending time (checks excluded). */
  txPerSecond: number;
  sendMs: number;
};

type Marker = { deployment: string; seed: string; size: Population["size"]; phases: string[] };

/** Sends whatever part of the population is missing on chain. Does not wait for the projections. */
export async function seedChain(options: SeedOptions): Promise<SeedReport> {
  const { rpc, deployment, population: pop } = options;
  const say = options.say ?? defaultSay;
  const started = Date.now();
  const c = deployment.contracts;
  const size = pop.size;
  const marker = readMarker(options.markerFile, deployment, pop);
  const sent: Record<string, number> = {};
  let sendMs = 0;

  say(
    `seeding ${size.patients} patients, ${size.doctors} doctors, ${size.grants} grants, ${size.records} records, ` +
      `${size.readings} readings (seed "${pop.seed}", ${options.mining} mining)`,
  );
  const t0 = Date.now();
  const patients = range(size.patients).map((i) => pop.patient(i));
  const doctors = range(size.doctors).map((j) => pop.doctor(j));
  const devices = range(size.patients).map((i) => pop.device(i));
  const hospital = pop.hospital();
  say(`derived ${patients.length + doctors.length + 1} accounts in ${Date.now() - t0} ms`);

  const call = (name: keyof typeof abis, functionName: string, args: unknown[]) =>
    encodeFunctionData({ abi: looseAbis[name], functionName, args });
  const views = async <T>(items: { to: Address; name: keyof typeof abis; fn: string; args: unknown[] }[]) => {
    const answers = await rpc.batchAll(
      items.map((item) => ({
        method: "eth_call",
        params: [{ to: item.to, data: call(item.name, item.fn, item.args) }, "latest"],
      })),
      { batchSize: 1_000, concurrency: 2 },
    );
    return answers.map((answer, k) => {
      if (answer.error) throw new NonRetryableError(`${items[k]!.fn} failed: ${answer.error.message}`);
      const item = items[k]!;
      return decodeFunctionResult({
        abi: looseAbis[item.name],
        functionName: item.fn,
        data: answer.result as Hex,
      }) as T;
    });
  };
  const tx = (from: Address, name: keyof typeof abis, fn: string, args: unknown[]): Tx => ({
    from,
    to: c[name].address,
    data: call(name, fn, args) as Hex,
    gas: 0n,
  });

  const phase = async (name: string, build: () => Promise<Tx[]>, verify: () => Promise<number>) => {
    if (marker.phases.includes(name) && !options.verify) {
      say(`${name}: done by an earlier run (marker); skipped`);
      sent[name] = 0;
      return;
    }
    const checkStarted = Date.now();
    const txs = await build();
    say(
      `${name}: ${txs.length} transactions to send (state checked in ${seconds(Date.now() - checkStarted)})`,
    );
    if (txs.length > 0) {
      await estimateGas(rpc, txs);
      const { ms } = await sendAll(rpc, txs, { mining: options.mining, label: name, say });
      sendMs += ms;
      say(
        `${name}: ${txs.length} tx in ${seconds(ms)} (${(txs.length / Math.max(ms / 1000, 1e-3)).toFixed(0)} tx/s)`,
      );
      const missing = await verify();
      if (missing > 0)
        throw new NonRetryableError(`${name}: ${missing} items are still missing after sending (reverted?)`);
    }
    sent[name] = txs.length;
    marker.phases.push(name);
    writeMarker(options.markerFile, marker);
  };

  // Transactions an interrupted run left in the pool are mined first, so that the checks see them.
  await settlePool(rpc);

  // The registry's owner sets registrars: recorded by the deployment, else asked (a given deployments file).
  const admin =
    deployment.admin ??
    (
      await views<Address>([
        { to: c.IdentityRegistry.address, name: "IdentityRegistry", fn: "owner", args: [] },
      ])
    )[0]!;
  // Funding and impersonation: cheap, done every time (a restarted anvil forgets impersonation).
  const fundStarted = Date.now();
  await prepareAccounts(rpc, [...patients, ...doctors, ...devices, hospital, admin]);
  say(
    `funded and impersonated ${patients.length + doctors.length + devices.length + 2} accounts in ${seconds(Date.now() - fundStarted)}`,
  );

  // Phase 1: identities.
  const missingIdentities = async () => {
    const roles = await views<number>(
      [hospital, ...patients, ...doctors].map((account) => ({
        to: c.IdentityRegistry.address,
        name: "IdentityRegistry" as const,
        fn: "roleOf",
        args: [account],
      })),
    );
    return roles.map((role, k) => (role === 0 ? k : -1)).filter((k) => k >= 0);
  };
  await phase(
    "identities",
    async () =>
      (await missingIdentities()).map((k) => {
        if (k === 0) {
          const p = pop.profile("hospital", 0);
          return tx(hospital, "IdentityRegistry", "registerOrganization", [
            ORG_HOSPITAL,
            p.profileHash,
            p.encryptionKey,
          ]);
        }
        if (k <= patients.length) {
          const p = pop.profile("patient", k - 1);
          return tx(patients[k - 1]!, "IdentityRegistry", "registerPatient", [
            p.profileHash,
            p.encryptionKey,
          ]);
        }
        const j = k - 1 - patients.length;
        const p = pop.profile("doctor", j);
        return tx(doctors[j]!, "IdentityRegistry", "registerDoctor", [
          p.profileHash,
          p.encryptionKey,
          p.licenseHash,
        ]);
      }),
    async () => (await missingIdentities()).length,
  );

  // Phase 2: the hospital as registrar, grants, devices.
  const pairs = range(size.patients).flatMap((i) => pop.doctorsOfPatient(i).map((j) => [i, j] as const));
  const missingConsent = async () => {
    const [registrar] = await views<boolean>([
      { to: c.IdentityRegistry.address, name: "IdentityRegistry", fn: "isRegistrar", args: [hospital] },
    ]);
    const grants = await views<readonly [number, bigint, boolean]>(
      pairs.map(([i, j]) => ({
        to: c.ConsentManager.address,
        name: "ConsentManager" as const,
        fn: "grantOf",
        args: [patients[i], doctors[j]],
      })),
    );
    const owners = await views<Address>(
      devices.map((device) => ({
        to: c.VitalsMonitor.address,
        name: "VitalsMonitor" as const,
        fn: "patientOfDevice",
        args: [device],
      })),
    );
    return {
      registrar: !registrar,
      grants: pairs.filter((_, k) => grants[k]![0] === 0),
      devices: range(size.patients).filter((i) => /^0x0+$/.test(owners[i]!)),
    };
  };
  await phase(
    "consent",
    async () => {
      const missing = await missingConsent();
      return [
        ...(missing.registrar ? [tx(admin, "IdentityRegistry", "setRegistrar", [hospital, true])] : []),
        ...missing.grants.map(([i, j]) =>
          tx(patients[i]!, "ConsentManager", "grantAccess", [doctors[j], SCOPES_ALL, 0n]),
        ),
        ...missing.devices.map((i) => tx(patients[i]!, "VitalsMonitor", "authorizeDevice", [devices[i]])),
      ];
    },
    async () => {
      const missing = await missingConsent();
      return Number(missing.registrar) + missing.grants.length + missing.devices.length;
    },
  );

  // Phase 3: doctors verified, records, readings.
  const missingData = async () => {
    const verified = await views<boolean>(
      doctors.map((doctor) => ({
        to: c.IdentityRegistry.address,
        name: "IdentityRegistry" as const,
        fn: "isVerifiedDoctor",
        args: [doctor],
      })),
    );
    const counts = await views<bigint>(
      patients.map((patient) => ({
        to: c.RecordRegistry.address,
        name: "RecordRegistry" as const,
        fn: "recordCount",
        args: [patient],
      })),
    );
    // Patients with none of their records: all to send. With some (an interrupted run): look at each.
    const recordsOf = (i: number) => range(pop.recordsOfPatient(i)).map((m) => pop.record(i, m));
    const none = range(size.patients).filter((i) => Number(counts[i]) === 0 && pop.recordsOfPatient(i) > 0);
    const partial = range(size.patients).filter(
      (i) => Number(counts[i]) > 0 && Number(counts[i]) < pop.recordsOfPatient(i),
    );
    const candidates = partial.flatMap(recordsOf);
    const existing = await views<readonly [Address, Address, number, Hex, number, Hex, Hex]>(
      candidates.map((record) => ({
        to: c.RecordRegistry.address,
        name: "RecordRegistry" as const,
        fn: "recordOf",
        args: [record.id],
      })),
    );
    // A device sends nothing but its readings batches: its nonce is the number of batches sent.
    const nonces = await rpc.batchAll(
      devices.map(
        (device) => ({ method: "eth_getTransactionCount", params: [device, "pending"] }) as RpcCall,
      ),
      { batchSize: 1_000, concurrency: 2 },
    );
    return {
      doctors: range(size.doctors).filter((j) => !verified[j]),
      records: [...none.flatMap(recordsOf), ...candidates.filter((_, k) => existing[k]![4] === 0)],
      batches: range(size.patients).flatMap((i) =>
        pop
          .readingBatches(i)
          .slice(Number(nonces[i]!.result as Hex))
          .map((batch) => [i, batch] as const),
      ),
    };
  };
  await phase(
    "records and readings",
    async () => {
      const missing = await missingData();
      const head = await rpc.call<{ timestamp: Hex }>("eth_getBlockByNumber", ["latest", false]);
      const now = BigInt(head.timestamp);
      return [
        ...missing.doctors.map((j) => tx(hospital, "IdentityRegistry", "verifyDoctor", [doctors[j]])),
        ...missing.records.map((r) =>
          r.author === "self"
            ? tx(patients[r.patient]!, "RecordRegistry", "addRecord", [
                patients[r.patient],
                r.id,
                r.recordType,
                r.contentHash,
                r.storagePointer,
              ])
            : tx(doctors[r.author]!, "RecordRegistry", "addRecord", [
                patients[r.patient],
                r.id,
                r.recordType,
                r.contentHash,
                r.storagePointer,
              ]),
        ),
        ...missing.batches.map(([i, [from, to]]) => ({
          ...tx(devices[i]!, "VitalsMonitor", "submitReadings", [
            range(to - from).map((k) => pop.reading(i, from + k, now)),
          ]),
          logs: to - from,
        })),
      ];
    },
    async () => {
      const missing = await missingData();
      return missing.doctors.length + missing.records.length + missing.batches.length;
    },
  );

  const transactions = Object.values(sent).reduce((a, b) => a + b, 0);
  const ms = Date.now() - started;
  const txPerSecond = sendMs > 0 ? transactions / (sendMs / 1000) : 0;
  say(
    `chain seeded in ${formatDuration(ms / 1000)}: ${transactions} transactions` +
      (transactions > 0 ? ` at ${txPerSecond.toFixed(0)} tx/s while sending` : " (nothing was missing)"),
  );
  return { sent, transactions, ms, txPerSecond, sendMs };
}

async function settlePool(rpc: JsonRpc): Promise<void> {
  for (let round = 0; round < 10_000; round++) {
    const status = await rpc.call<{ pending: Hex }>("txpool_status");
    if (Number(status.pending) === 0) return;
    await rpc.call("evm_mine");
  }
}

/** Gas per kind of transaction: estimated once (the first of each kind, x1.5), so that blocks pack well. */
async function estimateGas(rpc: JsonRpc, txs: Tx[]): Promise<void> {
  const kinds = new Map<string, Tx>();
  for (const tx of txs) {
    const kind = `${tx.to}:${tx.data.slice(0, 10)}`;
    if (!kinds.has(kind)) kinds.set(kind, tx);
  }
  const gas = new Map<string, bigint>();
  for (const [kind, tx] of kinds) {
    const estimate = await rpc
      .call<Hex>("eth_estimateGas", [{ from: tx.from, to: tx.to, data: tx.data }])
      .catch((error: unknown) => {
        throw new NonRetryableError(`a ${tx.data.slice(0, 10)} transaction to ${tx.to} would revert`, {
          details: error instanceof Error ? error.message : String(error),
        });
      });
    gas.set(kind, (BigInt(estimate) * 3n) / 2n + 30_000n);
  }
  for (const tx of txs) tx.gas = gas.get(`${tx.to}:${tx.data.slice(0, 10)}`)!;
}

function readMarker(file: string | undefined, deployment: Deployment, pop: Population): Marker {
  const fresh: Marker = { deployment: deploymentId(deployment), seed: pop.seed, size: pop.size, phases: [] };
  if (!file || !existsSync(file)) return fresh;
  try {
    const marker = JSON.parse(readFileSync(file, "utf8")) as Marker;
    const same =
      marker.deployment === fresh.deployment &&
      marker.seed === fresh.seed &&
      JSON.stringify(marker.size) === JSON.stringify(fresh.size);
    return same ? marker : fresh;
  } catch {
    return fresh;
  }
}

function writeMarker(file: string | undefined, marker: Marker): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(marker, null, 2)}\n`);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
