/**
 * THE fixture builder of the gateway's tests (as Medplum's createTestProject goes through the real
 * repository): typed builders that write the projections the only way production does, as event envelopes
 * applied by the projector's own `applyBatch`, and `createWorld()`: every kind of viewer, each with a fresh
 * wallet and a token from the real Sign-In with Ethereum flow.
 */
import { randomBytes } from "node:crypto";
import {
  type EventEnvelope,
  type EventName,
  type EventPayload,
  NonRetryableError,
  retractionOf,
  serializeEnvelope,
} from "@carechain/common";
import { applyBatch, tableColumns } from "@carechain/indexer";
import { makeEnvelope, TEST_CHAIN_ID } from "@carechain/indexer/testing";
import type { Address, Hex, PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import type { Database } from "../database/pool.ts";

export const testChainId = TEST_CHAIN_ID;

export const hex32 = (): Hex => `0x${randomBytes(32).toString("hex")}`;

export const newAccount = (): PrivateKeyAccount => privateKeyToAccount(generatePrivateKey());

export const lower = (address: string): Address => address.toLowerCase() as Address;

const zeroHash: Hex = `0x${"0".repeat(64)}`;
const defaultDevice: Address = "0x00000000000000000000000000000000000000dd";
const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

export type RecordFixture = {
  /** The RecordAdded event's id (see `retract`). */
  eventId: string;
  recordId: Hex;
  patient: Address;
  author: Address;
  recordType: number;
  version: number;
  rootRecordId: Hex;
  blockNumber: number;
  logIndex: number;
};

export type AlertFixture = { eventId: string; patient: Address; recipients: Address[]; measuredAt: Date };

/** An event the projector dead-lettered or did not apply: the fixture does not fit the projections. */
export class FixtureError extends NonRetryableError {}

/**
 * Builds projections by applying events, one transaction per call, with the projector's `applyBatch`
 * (rows, events log, undo images, event feed). Block N is at `genesis + N * 12 s` unless a call says when;
 * log indexes are unique per builder, so every event id is.
 */
export class Fixtures {
  private nextLog = 0;
  private nextOffset = 0;
  private columns: Map<string, string[]> | undefined;
  private readonly applied = new Map<string, EventEnvelope>();
  // Offsets of our own made-up topic in the schema's kafka_offsets.
  private readonly topic = `gateway-fixtures-${randomBytes(4).toString("hex")}`;
  readonly genesis: Date;

  constructor(
    readonly db: Database,
    options: { genesis?: Date } = {},
  ) {
    // Thirty days ago (whole seconds, as block timestamps are), so that fixture blocks are in the past.
    this.genesis = options.genesis ?? new Date(seconds(new Date(Date.now() - 30 * 24 * 3600_000)) * 1000);
  }

  blockTime(block: number): Date {
    return new Date(this.genesis.getTime() + block * 12_000);
  }

  /** An envelope of `type` at `block` (at its block time, or `at`). */
  event<N extends EventName>(type: N, payload: EventPayload<N>, block: number, at?: Date): EventEnvelope<N> {
    const timestamp = seconds(at ?? this.blockTime(block));
    return makeEnvelope(type, payload, { block, logIndex: this.nextLog++, timestamp });
  }

  /** Applies `events` in one batch, as the projector does; throws unless each one was applied. */
  async apply(...events: EventEnvelope[]): Promise<void> {
    const client = await this.db.pool.connect();
    try {
      this.columns ??= await tableColumns(client, this.db.projectionSchema);
      const messages = events.map((event) => ({
        offset: String(this.nextOffset++),
        key: null,
        value: serializeEnvelope(event),
      }));
      const result = await applyBatch(
        client,
        { schema: this.db.projectionSchema, columns: this.columns },
        { topic: this.topic, partition: 0, messages, nextOffset: BigInt(this.nextOffset) },
      );
      if (result.deadLetters > 0 || result.applied + result.retracted !== events.length) {
        throw new FixtureError("The projector did not apply every fixture event.", {
          details: JSON.stringify({ types: events.map((event) => event.type), result }),
        });
      }
    } finally {
      client.release();
    }
    for (const event of events) this.applied.set(event.id, event);
  }

  /** Retracts an applied event, as when a reorg orphans its block. */
  async retract(eventId: string): Promise<void> {
    const event = this.applied.get(eventId);
    if (!event) throw new FixtureError(`No fixture event ${eventId} to retract.`);
    await this.apply(retractionOf(event));
  }

  async patient(address: Address, options: { block?: number } = {}): Promise<Address> {
    const patient = lower(address);
    await this.apply(
      this.event(
        "PatientRegistered",
        { patient, profileHash: hex32(), encryptionKey: hex32() },
        options.block ?? 1,
      ),
    );
    return patient;
  }

  /** A registered doctor, verified (by `verifiedBy`) one block later unless `verified: false`. */
  async doctor(
    address: Address,
    options: { block?: number; verified?: boolean; verifiedBy?: Address } = {},
  ): Promise<Address> {
    const doctor = lower(address);
    const block = options.block ?? 2;
    const events: EventEnvelope[] = [
      this.event(
        "DoctorRegistered",
        { doctor, profileHash: hex32(), encryptionKey: hex32(), licenseHash: hex32() },
        block,
      ),
    ];
    if (options.verified ?? true) {
      const registrar = lower(options.verifiedBy ?? "0x00000000000000000000000000000000000000aa");
      events.push(this.event("DoctorVerified", { doctor, registrar }, block + 1));
    }
    await this.apply(...events);
    return doctor;
  }

  async organization(
    address: Address,
    options: { kind: number; block?: number; registrar?: boolean },
  ): Promise<Address> {
    const organization = lower(address);
    const block = options.block ?? 3;
    const events: EventEnvelope[] = [
      this.event(
        "OrganizationRegistered",
        { organization, kind: options.kind, profileHash: hex32(), encryptionKey: hex32() },
        block,
      ),
    ];
    if (options.registrar) events.push(this.event("RegistrarSet", { organization, enabled: true }, block));
    await this.apply(...events);
    return organization;
  }

  /** A grant at `block`, revoked one block later (at `revokedAt`) if `revokedAt`. */
  async grant(options: {
    patient: Address;
    grantee: Address;
    scopes: number;
    block?: number;
    expiresAt?: Date | null;
    revokedAt?: Date | null;
  }): Promise<void> {
    const block = options.block ?? 10;
    const pair = { patient: lower(options.patient), grantee: lower(options.grantee) };
    const expiresAt = options.expiresAt ? String(seconds(options.expiresAt)) : "0";
    const events: EventEnvelope[] = [
      this.event("AccessGranted", { ...pair, scopes: options.scopes, expiresAt }, block),
    ];
    if (options.revokedAt) events.push(this.event("AccessRevoked", pair, block + 1, options.revokedAt));
    await this.apply(...events);
  }

  /** Revokes a grant now, at `block` in the log. */
  async revoke(patient: Address, grantee: Address, block = 500): Promise<void> {
    await this.apply(
      this.event("AccessRevoked", { patient: lower(patient), grantee: lower(grantee) }, block, new Date()),
    );
  }

  /** Emergency access opened at `block`, closed one block later (at `closedAt`) if `closedAt`. */
  async emergency(options: {
    patient: Address;
    doctor: Address;
    expiresAt: Date;
    block?: number;
    closedAt?: Date | null;
  }): Promise<void> {
    const block = options.block ?? 20;
    const pair = { patient: lower(options.patient), doctor: lower(options.doctor) };
    const expiresAt = String(seconds(options.expiresAt));
    const events: EventEnvelope[] = [
      this.event("EmergencyAccessOpened", { ...pair, expiresAt, reasonHash: hex32() }, block),
    ];
    if (options.closedAt) events.push(this.event("EmergencyAccessClosed", pair, block + 1, options.closedAt));
    await this.apply(...events);
  }

  /** A new profile hash and encryption key for a registered account (ProfileUpdated). */
  async profile(address: Address, options: { encryptionKey: Hex; block: number }): Promise<void> {
    await this.apply(
      this.event(
        "ProfileUpdated",
        { account: lower(address), profileHash: hex32(), encryptionKey: options.encryptionKey },
        options.block,
      ),
    );
  }

  /** An original record (version 1); `contentHash` names its document (random when not given). */
  async record(options: {
    patient: Address;
    author: Address;
    type: number;
    block: number;
    contentHash?: Hex;
  }): Promise<RecordFixture> {
    return this.addRecord({ ...options, previous: null });
  }

  /** An amendment: a new version superseding `previous`. */
  async amend(previous: RecordFixture, options: { author?: Address; block: number }): Promise<RecordFixture> {
    return this.addRecord({
      patient: previous.patient,
      author: options.author ?? previous.author,
      type: previous.recordType,
      block: options.block,
      previous,
    });
  }

  private async addRecord(options: {
    patient: Address;
    author: Address;
    type: number;
    block: number;
    previous: RecordFixture | null;
    contentHash?: Hex;
  }): Promise<RecordFixture> {
    const recordId = hex32();
    const author = lower(options.author);
    const rootRecordId = options.previous?.rootRecordId ?? recordId;
    const version = (options.previous?.version ?? 0) + 1;
    const event = this.event(
      "RecordAdded",
      {
        recordId,
        patient: lower(options.patient),
        author,
        recordType: options.type,
        contentHash: options.contentHash ?? hex32(),
        storagePointer: `0x${randomBytes(48).toString("hex")}`,
        previousRecordId: options.previous?.recordId ?? zeroHash,
        rootRecordId,
        version,
        submitter: author,
      },
      options.block,
    );
    await this.apply(event);
    return {
      eventId: event.id,
      recordId,
      patient: lower(options.patient),
      author,
      recordType: options.type,
      version,
      rootRecordId,
      blockNumber: options.block,
      logIndex: event.logIndex,
    };
  }

  /** A reading (measured at whole seconds, as on chain); returns its event id. */
  async reading(options: {
    patient: Address;
    measuredAt: Date;
    systolic: number;
    diastolic: number;
    device?: Address;
    block?: number;
  }): Promise<string> {
    const event = this.event(
      "VitalsReported",
      {
        patient: lower(options.patient),
        device: lower(options.device ?? defaultDevice),
        measuredAt: String(seconds(options.measuredAt)),
        systolic: options.systolic,
        diastolic: options.diastolic,
      },
      options.block ?? 200,
    );
    await this.apply(event);
    return event.id;
  }

  /** An alert (measured at whole seconds); returns what the tests compare. */
  async alert(options: {
    patient: Address;
    measuredAt: Date;
    systolic: number;
    diastolic: number;
    recipients: Address[];
    device?: Address;
    block?: number;
  }): Promise<AlertFixture> {
    const recipients = options.recipients.map(lower);
    const event = this.event(
      "VitalsAlert",
      {
        patient: lower(options.patient),
        device: lower(options.device ?? defaultDevice),
        measuredAt: String(seconds(options.measuredAt)),
        systolic: options.systolic,
        diastolic: options.diastolic,
        recipients,
      },
      options.block ?? 210,
    );
    await this.apply(event);
    const measuredAt = new Date(seconds(options.measuredAt) * 1000);
    return { eventId: event.id, patient: lower(options.patient), recipients, measuredAt };
  }

  /** The patient's alert recipients, set now. */
  async alertRecipients(patient: Address, recipients: Address[], block = 220): Promise<void> {
    await this.apply(
      this.event(
        "AlertRecipientsSet",
        { patient: lower(patient), recipients: recipients.map(lower) },
        block,
        new Date(),
      ),
    );
  }

  /** The patient's vitals range (90-140 / 60-90), set now. */
  /** A wearable the patient authorized (DeviceAuthorized). */
  async device(patient: Address, device: Address, block = 215): Promise<void> {
    await this.apply(
      this.event("DeviceAuthorized", { patient: lower(patient), device: lower(device) }, block, new Date()),
    );
  }

  async vitalsRange(patient: Address, setBy: Address, block = 220): Promise<void> {
    await this.apply(
      this.event(
        "VitalsRangeSet",
        {
          patient: lower(patient),
          setBy: lower(setBy),
          systolicMin: 90,
          systolicMax: 140,
          diastolicMin: 60,
          diastolicMax: 90,
        },
        block,
        new Date(),
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The world: every kind of viewer
// ---------------------------------------------------------------------------------------------------------

export type WorldViewer = { account: PrivateKeyAccount; address: Address; token: string };

export type World = {
  /** Owns the data below; grants everyone else's access. */
  patient: WorldViewer;
  /** A second patient with records and readings, no grants: nobody else may read them. */
  otherPatient: WorldViewer;
  /** Doctor with an active grant of every scope (7). */
  grantedDoctor: WorldViewer;
  /** Registered, verified doctor without any grant. */
  ungrantedDoctor: WorldViewer;
  /** Doctor whose grant (7) was revoked. */
  revokedDoctor: WorldViewer;
  /** Doctor whose grant (7) expired yesterday. */
  expiredDoctor: WorldViewer;
  /** Insurer (organization kind 2) with a narrow grant: READ_RECORDS (1) only. */
  insurer: WorldViewer;
  /** Verified doctor with open emergency access (records + vitals, 1 hour left). */
  emergencyDoctor: WorldViewer;
  /** Doctor without a grant, designated alert recipient of the patient, named by one of two alerts. */
  alertRecipient: WorldViewer;
  /** No token. */
  anonymous: { token: null };
  data: {
    /** The patient's latest record versions, newest first (what `records` lists). */
    latestRecords: RecordFixture[];
    /** The amended record: version 1 and 2. */
    amended: [RecordFixture, RecordFixture];
    otherRecords: RecordFixture[];
    /** Readings of the patient, newest first. */
    readings: { eventId: string; measuredAt: Date; systolic: number; diastolic: number }[];
    /** [alert naming the recipient and the granted doctor, alert naming the granted doctor only], newest first. */
    alerts: [AlertFixture, AlertFixture];
    /** The wearable the patient authorized (it reported the readings). */
    device: Address;
  };
};

export async function createWorld(harness: {
  fixtures: Fixtures;
  signIn: (account: PrivateKeyAccount) => Promise<string>;
}): Promise<World> {
  const f = harness.fixtures;
  const accounts = {
    patient: newAccount(),
    otherPatient: newAccount(),
    grantedDoctor: newAccount(),
    ungrantedDoctor: newAccount(),
    revokedDoctor: newAccount(),
    expiredDoctor: newAccount(),
    insurer: newAccount(),
    emergencyDoctor: newAccount(),
    alertRecipient: newAccount(),
  };
  const a = Object.fromEntries(
    Object.entries(accounts).map(([name, account]) => [name, lower(account.address)]),
  ) as Record<keyof typeof accounts, Address>;
  const day = 24 * 3600 * 1000;
  // Whole seconds, as on chain: what the projections hold is what the tests expect.
  const now = seconds(new Date()) * 1000;

  await f.patient(a.patient, { block: 1 });
  await f.patient(a.otherPatient, { block: 2 });
  await f.doctor(a.grantedDoctor, { block: 3 });
  await f.doctor(a.ungrantedDoctor, { block: 4 });
  await f.doctor(a.revokedDoctor, { block: 5 });
  await f.doctor(a.expiredDoctor, { block: 6 });
  await f.doctor(a.emergencyDoctor, { block: 7 });
  await f.doctor(a.alertRecipient, { block: 8, verified: false });
  await f.organization(a.insurer, { kind: 2, block: 9 });

  await f.grant({ patient: a.patient, grantee: a.grantedDoctor, scopes: 7, block: 10 });
  await f.grant({
    patient: a.patient,
    grantee: a.revokedDoctor,
    scopes: 7,
    block: 11,
    revokedAt: new Date(now - day),
  });
  await f.grant({
    patient: a.patient,
    grantee: a.expiredDoctor,
    scopes: 7,
    block: 13,
    expiresAt: new Date(now - day),
  });
  await f.grant({
    patient: a.patient,
    grantee: a.insurer,
    scopes: 1,
    block: 14,
    expiresAt: new Date(now + 30 * day),
  });
  await f.emergency({
    patient: a.patient,
    doctor: a.emergencyDoctor,
    expiresAt: new Date(now + 3600_000),
    block: 15,
  });

  const r1 = await f.record({ patient: a.patient, author: a.grantedDoctor, type: 1, block: 100 });
  const r2 = await f.record({ patient: a.patient, author: a.grantedDoctor, type: 2, block: 110 });
  const r3 = await f.record({ patient: a.patient, author: a.emergencyDoctor, type: 4, block: 120 });
  const r1v2 = await f.amend(r1, { block: 130 });
  const r4 = await f.record({ patient: a.patient, author: a.patient, type: 8, block: 140 });
  const o1 = await f.record({ patient: a.otherPatient, author: a.otherPatient, type: 8, block: 105 });
  const o2 = await f.record({ patient: a.otherPatient, author: a.otherPatient, type: 8, block: 115 });

  const readings: World["data"]["readings"] = [];
  for (let hour = 5; hour >= 1; hour--) {
    const measuredAt = new Date(now - hour * 3600_000);
    const systolic = 118 + hour * 4;
    const diastolic = 76 + hour;
    const eventId = await f.reading({
      patient: a.patient,
      measuredAt,
      systolic,
      diastolic,
      block: 200 + (5 - hour),
    });
    readings.unshift({ eventId, measuredAt, systolic, diastolic });
  }
  await f.reading({
    patient: a.otherPatient,
    measuredAt: new Date(now - 2 * 3600_000),
    systolic: 120,
    diastolic: 80,
  });
  await f.device(a.patient, defaultDevice);
  await f.vitalsRange(a.patient, a.patient);
  await f.alertRecipients(a.patient, [a.alertRecipient, a.grantedDoctor]);
  const older = await f.alert({
    patient: a.patient,
    measuredAt: new Date(now - 5 * 3600_000),
    systolic: 138,
    diastolic: 81,
    recipients: [a.grantedDoctor],
    block: 210,
  });
  const newer = await f.alert({
    patient: a.patient,
    measuredAt: new Date(now - 4 * 3600_000),
    systolic: 134,
    diastolic: 80,
    recipients: [a.alertRecipient, a.grantedDoctor],
    block: 211,
  });

  const tokens = await Promise.all(Object.values(accounts).map((account) => harness.signIn(account)));
  const names = Object.keys(accounts) as (keyof typeof accounts)[];
  const viewers = Object.fromEntries(
    names.map((name, index) => [name, { account: accounts[name], address: a[name], token: tokens[index]! }]),
  ) as Record<keyof typeof accounts, WorldViewer>;

  return {
    ...viewers,
    anonymous: { token: null },
    data: {
      device: lower(defaultDevice),
      latestRecords: [r4, r1v2, r3, r2],
      amended: [r1, r1v2],
      otherRecords: [o2, o1],
      readings,
      alerts: [newer, older],
    },
  };
}
