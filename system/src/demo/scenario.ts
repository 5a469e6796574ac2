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
  type RecordTypeCode,
  recordTypes,
  scopes,
  vitalsMonitorAbi,
} from "@carechain/contracts";
import { DocumentsClient, DocumentsRequestError } from "@carechain/documents";
import { signIn } from "@carechain/gateway/client";
import { createPublicClient, createWalletClient, type Hex, http, type PublicClient, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type DemoAccount, demoAccounts, demoEncryptionKeyPair } from "./accounts.ts";
import { type DemoDocumentName, demoDocuments } from "./documents.ts";

export interface SeedDemoOptions {
  rpcUrl: string;
  deployment: Deployment;
  /** The deployer's key: the IdentityRegistry admin, who makes st-mary a registrar. */
  adminKey: Hex;
  /**
   * The running gateway: the records then carry real encrypted documents (uploaded through it, keys wrapped
   * for the patient, the author and the readers below). Without it, stand-in hashes (the chain alone).
   */
  gatewayUrl?: string;
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

/** The demo's records: their ids (deterministic) and patients, for `npm run query -- … DocumentFetch`. */
export const demoRecords = {
  consultation: { id: demoId("alice:consultation"), patient: demoAccounts.alice },
  consultationAmended: { id: demoId("alice:consultation:v2"), patient: demoAccounts.alice },
  labResult: { id: demoId("alice:lab-result"), patient: demoAccounts.alice },
  upload: { id: demoId("alice:upload"), patient: demoAccounts.alice },
  prescription: { id: demoId("bob:prescription"), patient: demoAccounts.bob },
} as const satisfies Record<DemoDocumentName, { id: Hex; patient: DemoAccount }>;

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

  const ids = Object.fromEntries(
    Object.entries(demoRecords).map(([name, record]) => [name, record.id]),
  ) as DemoResult["records"];

  // Records carry real encrypted documents when the gateway is given: the author's client encrypts,
  // uploads, writes the record with the document's hash and waits until the gateway shows it.
  const gatewayUrl = options.gatewayUrl;
  const documentClients = new Map<string, Promise<DocumentsClient>>();
  const documentsAs = (who: DemoAccount) => {
    let client = documentClients.get(who.name);
    if (!client) {
      client = signIn({ url: gatewayUrl!, account: privateKeyToAccount(who.privateKey) }).then(
        ({ token }) =>
          new DocumentsClient({
            gatewayUrl: gatewayUrl!,
            token,
            address: who.address,
            secretKey: demoEncryptionKeyPair(who).secretKey,
          }),
      );
      documentClients.set(who.name, client);
    }
    return client;
  };
  /**
   * Until the gateway has indexed what the author's upload needs (its grant, every reader's registered
   * key): the keys it shows must be the demo's, or a document would be wrapped for a stale one.
   */
  const readersIndexed = async (author: DemoAccount, patientOf: DemoAccount, readers: DemoAccount[]) => {
    const client = await documentsAs(author);
    const expected = [author, patientOf, ...readers];
    for (const deadline = Date.now() + 60_000; ; ) {
      options.signal?.throwIfAborted();
      const keys = await client.readerKeys(expected.map((who) => who.address)).catch(() => []);
      const shown = new Map(keys.map((key) => [key.address, toHex(key.publicKey)]));
      const allowed = await client
        .findRecord(patientOf.address, demoId("probe"))
        .then(() => true)
        .catch((error: unknown) => !(error instanceof DocumentsRequestError));
      if (
        allowed &&
        expected.every((who) => shown.get(who.address.toLowerCase()) === profile(who).encryptionKey)
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`the gateway did not index ${author.name}'s access and keys within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  /** One record: with a real document through the gateway, or a stand-in hash without one. */
  const writeRecord = (p: {
    label: string;
    id: Hex;
    name: DemoDocumentName;
    author: DemoAccount;
    authorClient: CareChainClient;
    patient: DemoAccount;
    recordType: RecordTypeCode;
    readers: DemoAccount[];
    previousRecordId?: Hex;
    relayer?: CareChainClient;
  }) =>
    step(
      p.label,
      () => recordExists(p.id),
      async () => {
        if (gatewayUrl) {
          await readersIndexed(p.author, p.patient, p.readers);
          return (await documentsAs(p.author)).addRecordWithDocument({
            patient: p.patient.address,
            recordType: p.recordType,
            recordId: p.id,
            previousRecordId: p.previousRecordId,
            source: [Buffer.from(demoDocuments[p.name])],
            readers: p.readers.map((who) => who.address),
            write: p.relayer ? { author: p.authorClient, relayer: p.relayer } : { author: p.authorClient },
          });
        }
        const stand = {
          contentHash: hashText(`carechain-demo:content:${p.name}`),
          storagePointer: pointer(p.name),
        };
        if (p.relayer)
          return p.relayer.addRecordBySig(
            await p.authorClient.signRecordAuthorization({
              patient: p.patient.address,
              recordId: p.id,
              recordType: p.recordType,
              ...stand,
            }),
          );
        if (p.previousRecordId)
          return p.authorClient.amendRecord({
            previousRecordId: p.previousRecordId,
            recordId: p.id,
            ...stand,
          });
        return p.authorClient.addRecord({
          patient: p.patient.address,
          recordId: p.id,
          recordType: p.recordType,
          ...stand,
        });
      },
    );

  // 1. Everyone registers (hashes of off-chain profiles, and X25519 public keys for document keys).
  const profile = (who: DemoAccount) => ({
    profileHash: hashText(`carechain-demo:profile:${who.name}`),
    encryptionKey: toHex(demoEncryptionKeyPair(who).publicKey),
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

  // A chain seeded before the demo had real encryption keys gets them now (documents need them).
  await inParallel(
    ...(
      [
        [a.stMary, c.stMary],
        [a.cityClinic, c.cityClinic],
        [a.acme, c.acme],
        [a.drHouse, c.drHouse],
        [a.drGrey, c.drGrey],
        [a.alice, c.alice],
        [a.bob, c.bob],
      ] as const
    ).map(
      ([who, client]) =>
        () =>
          step(
            `${who.name} registered its document encryption key`,
            async () =>
              (await read.identityRegistry.read.encryptionKeyOf([who.address])) ===
              profile(who).encryptionKey,
            () => client.updateProfile(profile(who)),
          ),
    ),
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
      await writeRecord({
        label: "alice uploaded a record of her own (an encrypted document)",
        id: ids.upload,
        name: "upload",
        author: a.alice,
        authorClient: c.alice,
        patient: a.alice,
        recordType: recordTypes.patientUpload,
        readers: [a.drHouse, a.acme],
      });
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
      await writeRecord({
        label: "dr-house wrote a consultation note for alice (an encrypted document)",
        id: ids.consultation,
        name: "consultation",
        author: a.drHouse,
        authorClient: c.drHouse,
        patient: a.alice,
        recordType: recordTypes.consultationNote,
        readers: [a.acme, a.drGrey],
      });
      await writeRecord({
        label: "dr-house amended it (version 2)",
        id: ids.consultationAmended,
        name: "consultationAmended",
        author: a.drHouse,
        authorClient: c.drHouse,
        patient: a.alice,
        recordType: recordTypes.consultationNote,
        readers: [a.acme, a.drGrey],
        previousRecordId: ids.consultation,
      });
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
      await writeRecord({
        label: "dr-house signed a lab result (EIP-712), st-mary relayed it (addRecordBySig)",
        id: ids.labResult,
        name: "labResult",
        author: a.drHouse,
        authorClient: c.drHouse,
        patient: a.alice,
        recordType: recordTypes.labResult,
        readers: [a.acme],
        relayer: c.stMary,
      });
    },
    () =>
      writeRecord({
        label: "dr-grey wrote a prescription for bob",
        id: ids.prescription,
        name: "prescription",
        author: a.drGrey,
        authorClient: c.drGrey,
        patient: a.bob,
        recordType: recordTypes.prescription,
        readers: [],
      }),
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
