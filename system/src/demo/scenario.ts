// The demo `npm start` seeds on a fresh chain: two hospitals (st-mary made registrar by the admin), two
// verified doctors, two patients who grant and revoke access, records with an amendment and one EIP-712
// signed record relayed by a hospital, an insurer with a narrow grant (READ_RECORDS, expiring), and a
// blood-pressure cuff with a range and alert recipients whose readings raise alerts.
//
// Idempotent: every step first checks on chain whether it was done (roleOf, grantOf, recordOf with
// deterministic record ids, ...), so a second start sends nothing and an interrupted seeding resumes.
// Only hashes, ids and encrypted-pointer stand-ins go on chain: no personal data.
import {
  ALL_SCOPES,
  type CareChainClient,
  chainFor,
  createCareChainClient,
  type Deployment,
  hashText,
  organizationKinds,
  recordTypes,
  scopes,
  vitalsMonitorAbi,
} from "@carechain/contracts";
import { createPublicClient, createWalletClient, type Hex, http, type PublicClient } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type DemoAccount, demoAccounts } from "./accounts.ts";

export interface SeedDemoOptions {
  rpcUrl: string;
  deployment: Deployment;
  /** The deployer's key: the IdentityRegistry admin, who makes st-mary a registrar. */
  adminKey: Hex;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

export interface DemoResult {
  /** Transactions sent by this call (0: the demo was on chain already). */
  transactions: number;
  ms: number;
  /** Ids of the demo's records, for examples. */
  records: { consultation: Hex; consultationAmended: Hex; labResult: Hex; upload: Hex; prescription: Hex };
}

/** A deterministic 32-byte id for a demo item, so that a later start can tell it exists. */
export const demoId = (label: string): Hex => hashText(`carechain-demo:${label}`);

/** Stand-in for an encrypted storage pointer (the real one would point at encrypted content). */
const pointer = (label: string): Hex => hashText(`carechain-demo:pointer:${label}`);

const DAY = 24 * 60 * 60;

export async function seedDemo(options: SeedDemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const chain = chainFor(options.deployment.chainId, options.rpcUrl);
  const transport = http(options.rpcUrl);
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 100 }) as PublicClient;
  const clientFor = (privateKey: Hex): CareChainClient =>
    createCareChainClient({
      publicClient,
      walletClient: createWalletClient({
        account: privateKeyToAccount(privateKey),
        chain,
        transport,
        pollingInterval: 100,
      }),
      deployment: options.deployment,
      pollingIntervalMs: 100,
    });
  const a = demoAccounts;
  const c = {
    admin: clientFor(options.adminKey),
    stMary: clientFor(a.stMary.privateKey),
    cityClinic: clientFor(a.cityClinic.privateKey),
    drHouse: clientFor(a.drHouse.privateKey),
    drGrey: clientFor(a.drGrey.privateKey),
    alice: clientFor(a.alice.privateKey),
    bob: clientFor(a.bob.privateKey),
    acme: clientFor(a.acme.privateKey),
    device: clientFor(a.device.privateKey),
  };
  const read = c.admin.read;
  let transactions = 0;

  /** Runs `send` unless `done()` says the step is on chain already. */
  const step = async (label: string, done: () => Promise<boolean>, send: () => Promise<unknown>) => {
    options.signal?.throwIfAborted();
    if (await done()) return;
    await send();
    transactions++;
    log(label);
  };
  const registered = async (who: DemoAccount) =>
    (await read.identityRegistry.read.roleOf([who.address])) !== 0;
  const granted = async (patient: DemoAccount, grantee: DemoAccount) =>
    (await read.consentManager.read.grantOf([patient.address, grantee.address]))[0] !== 0;
  const revoked = async (patient: DemoAccount, grantee: DemoAccount) =>
    (await read.consentManager.read.grantOf([patient.address, grantee.address]))[2];
  const recordExists = async (id: Hex) => (await read.recordRegistry.read.recordOf([id]))[4] !== 0;
  /** One sender's steps in order (one nonce sequence); different senders in parallel. */
  const inParallel = (...sequences: (() => Promise<void>)[]) => Promise.all(sequences.map((s) => s()));

  const ids = {
    consultation: demoId("alice:consultation"),
    consultationAmended: demoId("alice:consultation:v2"),
    labResult: demoId("alice:lab-result"),
    upload: demoId("alice:upload"),
    prescription: demoId("bob:prescription"),
  };

  // 1. Everyone registers (hashes of off-chain profiles and encryption keys only).
  const profile = (who: DemoAccount) => ({
    profileHash: hashText(`carechain-demo:profile:${who.name}`),
    encryptionKey: hashText(`carechain-demo:encryption-key:${who.name}`),
  });
  const organization = (who: DemoAccount, client: CareChainClient, kind: "hospital" | "insurer") => () =>
    step(
      `${who.name} registered as ${kind}`,
      () => registered(who),
      () => client.registerOrganization({ kind: organizationKinds[kind], ...profile(who) }),
    );
  const doctor = (who: DemoAccount, client: CareChainClient) => () =>
    step(
      `${who.name} registered as doctor`,
      () => registered(who),
      () =>
        client.registerDoctor({
          ...profile(who),
          licenseHash: hashText(`carechain-demo:license:${who.name}`),
        }),
    );
  const patient = (who: DemoAccount, client: CareChainClient) => () =>
    step(
      `${who.name} registered as patient`,
      () => registered(who),
      () => client.registerPatient(profile(who)),
    );
  await inParallel(
    organization(a.stMary, c.stMary, "hospital"),
    organization(a.cityClinic, c.cityClinic, "hospital"),
    organization(a.acme, c.acme, "insurer"),
    doctor(a.drHouse, c.drHouse),
    doctor(a.drGrey, c.drGrey),
    patient(a.alice, c.alice),
    patient(a.bob, c.bob),
  );

  // 2. The admin makes st-mary a registrar; st-mary verifies both doctors.
  await step(
    "st-mary made registrar by the admin",
    () => read.identityRegistry.read.isRegistrar([a.stMary.address]),
    () => c.admin.setRegistrar({ organization: a.stMary.address, enabled: true }),
  );
  for (const who of [a.drHouse, a.drGrey]) {
    await step(
      `${who.name} verified by st-mary`,
      () => read.identityRegistry.read.isVerifiedDoctor([who.address]),
      () => c.stMary.verifyDoctor({ doctor: who.address }),
    );
  }

  // 3. Patients grant access; alice's device, its alert recipients.
  const now = Number((await publicClient.getBlock()).timestamp);
  await inParallel(
    async () => {
      await step(
        "alice granted dr-house READ_RECORDS, WRITE_RECORDS, READ_VITALS",
        () => granted(a.alice, a.drHouse),
        () => c.alice.grantAccess({ grantee: a.drHouse.address, scopes: ALL_SCOPES }),
      );
      await step(
        "alice granted acme-insurance READ_RECORDS for 90 days",
        () => granted(a.alice, a.acme),
        () =>
          c.alice.grantAccess({
            grantee: a.acme.address,
            scopes: scopes.READ_RECORDS,
            expiresAt: now + 90 * DAY,
          }),
      );
      await step(
        "alice granted dr-grey READ_RECORDS",
        () => granted(a.alice, a.drGrey),
        () => c.alice.grantAccess({ grantee: a.drGrey.address, scopes: scopes.READ_RECORDS }),
      );
      await step(
        "alice authorized her blood-pressure cuff",
        async () => (await read.vitalsMonitor.read.patientOfDevice([a.device.address])) === a.alice.address,
        () => c.alice.authorizeDevice({ device: a.device.address }),
      );
      await step(
        "alice designated dr-house and st-mary as alert recipients",
        async () => (await read.vitalsMonitor.read.alertRecipientsOf([a.alice.address])).length > 0,
        () => c.alice.setAlertRecipients({ recipients: [a.drHouse.address, a.stMary.address] }),
      );
      await step(
        "alice uploaded a record of her own",
        () => recordExists(ids.upload),
        () =>
          c.alice.addRecord({
            patient: a.alice.address,
            recordId: ids.upload,
            recordType: recordTypes.patientUpload,
            contentHash: hashText("carechain-demo:content:alice:upload"),
            storagePointer: pointer("alice:upload"),
          }),
      );
    },
    async () => {
      await step(
        "bob granted dr-grey READ_RECORDS, WRITE_RECORDS, READ_VITALS",
        () => granted(a.bob, a.drGrey),
        () => c.bob.grantAccess({ grantee: a.drGrey.address, scopes: ALL_SCOPES }),
      );
      await step(
        "bob granted dr-house READ_RECORDS",
        () => granted(a.bob, a.drHouse),
        () => c.bob.grantAccess({ grantee: a.drHouse.address, scopes: scopes.READ_RECORDS }),
      );
    },
  );

  // 4. Records: a note and its amendment, a lab result signed by dr-house and relayed by st-mary
  //    (EIP-712 meta-transaction), a prescription for bob; dr-house sets alice's vitals range.
  await inParallel(
    async () => {
      await step(
        "dr-house wrote a consultation note for alice",
        () => recordExists(ids.consultation),
        () =>
          c.drHouse.addRecord({
            patient: a.alice.address,
            recordId: ids.consultation,
            recordType: recordTypes.consultationNote,
            contentHash: hashText("carechain-demo:content:alice:consultation"),
            storagePointer: pointer("alice:consultation"),
          }),
      );
      await step(
        "dr-house amended it (version 2)",
        () => recordExists(ids.consultationAmended),
        () =>
          c.drHouse.amendRecord({
            previousRecordId: ids.consultation,
            recordId: ids.consultationAmended,
            contentHash: hashText("carechain-demo:content:alice:consultation:v2"),
            storagePointer: pointer("alice:consultation:v2"),
          }),
      );
      await step(
        "dr-house set alice's blood-pressure range (systolic 90-140, diastolic 60-90)",
        async () => (await read.vitalsMonitor.read.rangeOf([a.alice.address]))[1] !== 0,
        () =>
          c.drHouse.setVitalsRange({
            patient: a.alice.address,
            systolicMin: 90,
            systolicMax: 140,
            diastolicMin: 60,
            diastolicMax: 90,
          }),
      );
      await step(
        "dr-house signed a lab result (EIP-712), st-mary relayed it (addRecordBySig)",
        () => recordExists(ids.labResult),
        async () => {
          const signed = await c.drHouse.signRecordAuthorization({
            patient: a.alice.address,
            recordId: ids.labResult,
            recordType: recordTypes.labResult,
            contentHash: hashText("carechain-demo:content:alice:lab-result"),
            storagePointer: pointer("alice:lab-result"),
          });
          return c.stMary.addRecordBySig(signed);
        },
      );
    },
    () =>
      step(
        "dr-grey wrote a prescription for bob",
        () => recordExists(ids.prescription),
        () =>
          c.drGrey.addRecord({
            patient: a.bob.address,
            recordId: ids.prescription,
            recordType: recordTypes.prescription,
            contentHash: hashText("carechain-demo:content:bob:prescription"),
            storagePointer: pointer("bob:prescription"),
          }),
      ),
  );

  // 5. The cuff sends a morning of readings, every 15 minutes; two are out of range and raise alerts.
  const pressures: [number, number][] = [
    [118, 76],
    [121, 79],
    [124, 80],
    [168, 102], // alert: too high
    [131, 84],
    [85, 55], // alert: too low
    [119, 77],
    [122, 78],
  ];
  await step(
    "alice's cuff sent 8 readings (2 out of range: alerts to dr-house and st-mary)",
    async () =>
      (
        await publicClient.getContractEvents({
          address: options.deployment.contracts.VitalsMonitor.address,
          abi: vitalsMonitorAbi,
          eventName: "VitalsReported",
          args: { patient: a.alice.address, device: a.device.address },
          fromBlock: BigInt(options.deployment.startBlock),
        })
      ).length > 0,
    () =>
      c.device.submitReadings({
        readings: pressures.map(([systolic, diastolic], i) => ({
          measuredAt: now - (pressures.length - i) * 15 * 60,
          systolic,
          diastolic,
        })),
      }),
  );

  // 6. Revocations: alice takes dr-grey's access back, bob takes dr-house's.
  await inParallel(
    () =>
      step(
        "alice revoked dr-grey",
        () => revoked(a.alice, a.drGrey),
        () => c.alice.revokeAccess({ grantee: a.drGrey.address }),
      ),
    () =>
      step(
        "bob revoked dr-house",
        () => revoked(a.bob, a.drHouse),
        () => c.bob.revokeAccess({ grantee: a.drHouse.address }),
      ),
  );

  return { transactions, ms: Date.now() - started, records: ids };
}
