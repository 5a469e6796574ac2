/**
 * THE fixture builder of the gateway's tests (as Medplum's createTestProject): a running gateway with its
 * subgraphs over a test schema of its own (the projector's migration applied, the gateway's tables
 * beside), typed row builders for the projections, and `createWorld()`: every kind of viewer, each with a
 * fresh wallet and a token from the real Sign-In with Ethereum flow.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import {
  type Common,
  createCommon,
  createLogger,
  createSilentLogger,
  type LogLevel,
} from "@carechain/common";
import { createTestSchema, getStack, type TestSchema } from "@carechain/stack/testing";
import type { GraphQLFormattedError } from "graphql";
import type { Address, Hex, PrivateKeyAccount } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { type AuditLog, createAuditLog } from "../audit/audit-log.ts";
import { signIn } from "../client/sign-in.ts";
import { upMigrationSql } from "../database/migrate.ts";
import { createDatabase, type Database } from "../database/pool.ts";
import { composeSupergraph } from "../gateway/compose.ts";
import { type RunningGateway, startGateway } from "../gateway/server.ts";
import { gatewayMetrics } from "../metrics.ts";
import { defaultLimits, type GatewayOptions, type Limits } from "../options.ts";
import {
  ourSubgraphs,
  type RunningSubgraph,
  type SubgraphDefinition,
  startSubgraphs,
} from "../subgraphs/index.ts";

// @apollo/gateway sends anonymous usage telemetry to Apollo (and probes cloud metadata endpoints) unless
// this is set before it is constructed; health data never leaves, but nothing should call out. main.ts does
// the same for the real processes.
process.env.APOLLO_TELEMETRY_DISABLED = "true";

/** The projector's migrations: the gateway's tests build the same tables, without the projector. */
const projectionMigrations = new URL("../../../indexer/src/database/migrations/", import.meta.url);

export const testChainId = 31_337;
const testDomain = "carechain.test";

// ---------------------------------------------------------------------------------------------------------
// Row builders
// ---------------------------------------------------------------------------------------------------------

export const hex32 = (): Hex => `0x${randomBytes(32).toString("hex")}`;

export const newAccount = (): PrivateKeyAccount => privateKeyToAccount(generatePrivateKey());

export const lower = (address: string): Address => address.toLowerCase() as Address;

export type RecordFixture = {
  recordId: string;
  patient: Address;
  author: Address;
  recordType: number;
  version: number;
  rootRecordId: string;
  blockNumber: number;
  logIndex: number;
};

export type AlertFixture = { eventId: string; patient: Address; recipients: Address[]; measuredAt: Date };

/**
 * Typed inserts into the projection tables of a test schema. Block numbers, log indexes, event ids and
 * times are made up consistently: block N is at `genesis + N * 12 s`.
 */
export class Fixtures {
  private nextLog = 0;
  readonly genesis: Date;

  constructor(
    readonly db: Database,
    options: { genesis?: Date } = {},
  ) {
    // Thirty days ago, so that fixture blocks are in the past.
    this.genesis = options.genesis ?? new Date(Date.now() - 30 * 24 * 3600 * 1000);
  }

  blockTime(block: number): Date {
    return new Date(this.genesis.getTime() + block * 12_000);
  }

  eventId(block: number, logIndex: number): string {
    return `${testChainId}:0x${block.toString(16).padStart(64, "0")}:${logIndex}`;
  }

  private logIndex(): number {
    return this.nextLog++;
  }

  private get p(): string {
    return this.db.projection;
  }

  async patient(address: Address, options: { block?: number } = {}): Promise<Address> {
    const block = options.block ?? 1;
    await this.db.query(
      `INSERT INTO ${this.p}.patients (address, profile_hash, encryption_key, registered_block, registered_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $5)`,
      [lower(address), hex32(), hex32(), block, this.blockTime(block)],
    );
    return lower(address);
  }

  async doctor(address: Address, options: { block?: number; verified?: boolean; verifiedBy?: Address } = {}) {
    const block = options.block ?? 2;
    const verified = options.verified ?? true;
    await this.db.query(
      `INSERT INTO ${this.p}.doctors (address, profile_hash, encryption_key, license_hash, verified, verified_by,
                                     verified_at, registered_block, registered_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`,
      [
        lower(address),
        hex32(),
        hex32(),
        hex32(),
        verified,
        verified ? lower(options.verifiedBy ?? "0x00000000000000000000000000000000000000aa") : null,
        verified ? this.blockTime(block + 1) : null,
        block,
        this.blockTime(block),
      ],
    );
    return lower(address);
  }

  async organization(address: Address, options: { kind: number; block?: number; registrar?: boolean }) {
    const block = options.block ?? 3;
    await this.db.query(
      `INSERT INTO ${this.p}.organizations (address, kind, profile_hash, encryption_key, is_registrar,
                                           registered_block, registered_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [
        lower(address),
        options.kind,
        hex32(),
        hex32(),
        options.registrar ?? false,
        block,
        this.blockTime(block),
      ],
    );
    return lower(address);
  }

  /** A grant (its current row) and its history: granted, then revoked if `revokedAt`. */
  async grant(options: {
    patient: Address;
    grantee: Address;
    scopes: number;
    block?: number;
    expiresAt?: Date | null;
    revokedAt?: Date | null;
  }): Promise<void> {
    const block = options.block ?? 10;
    const grantedAt = this.blockTime(block);
    await this.db.query(
      `INSERT INTO ${this.p}.grants (patient, grantee, scopes, expires_at, granted_at, updated_at, revoked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (patient, grantee) DO UPDATE
         SET scopes = excluded.scopes, expires_at = excluded.expires_at, granted_at = excluded.granted_at,
             updated_at = excluded.updated_at, revoked_at = excluded.revoked_at`,
      [
        lower(options.patient),
        lower(options.grantee),
        options.scopes,
        options.expiresAt ?? null,
        grantedAt,
        options.revokedAt ?? grantedAt,
        options.revokedAt ?? null,
      ],
    );
    await this.history({ ...options, action: "granted", block });
    if (options.revokedAt) {
      await this.history({ ...options, action: "revoked", block: block + 1, expiresAt: null, scopes: null });
    }
  }

  /** Revokes a grant now, as the projector does when AccessRevoked is indexed. */
  async revoke(patient: Address, grantee: Address, block = 500): Promise<void> {
    await this.db.query(
      `UPDATE ${this.p}.grants SET revoked_at = now(), updated_at = now() WHERE patient = $1 AND grantee = $2`,
      [lower(patient), lower(grantee)],
    );
    await this.history({ patient, grantee, action: "revoked", block, scopes: null, expiresAt: null });
  }

  async history(options: {
    patient: Address;
    grantee: Address;
    action: "granted" | "changed" | "revoked" | "emergency_opened" | "emergency_closed";
    block: number;
    scopes?: number | null;
    expiresAt?: Date | null;
    reasonHash?: string | null;
  }): Promise<void> {
    const logIndex = this.logIndex();
    await this.db.query(
      `INSERT INTO ${this.p}.grant_history (event_id, patient, grantee, action, scopes, expires_at, reason_hash,
                                           block_number, block_time, log_index)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        this.eventId(options.block, logIndex),
        lower(options.patient),
        lower(options.grantee),
        options.action,
        options.scopes ?? null,
        options.expiresAt ?? null,
        options.reasonHash ?? null,
        options.block,
        this.blockTime(options.block),
        logIndex,
      ],
    );
  }

  async emergency(options: {
    patient: Address;
    doctor: Address;
    expiresAt: Date;
    block?: number;
    closedAt?: Date | null;
  }): Promise<void> {
    const block = options.block ?? 20;
    const reasonHash = hex32();
    await this.db.query(
      `INSERT INTO ${this.p}.emergency_access (patient, doctor, expires_at, reason_hash, opened_at, closed_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        lower(options.patient),
        lower(options.doctor),
        options.expiresAt,
        reasonHash,
        this.blockTime(block),
        options.closedAt ?? null,
      ],
    );
    await this.history({
      patient: options.patient,
      grantee: options.doctor,
      action: "emergency_opened",
      block,
      expiresAt: options.expiresAt,
      reasonHash,
    });
  }

  /** An original record (version 1). */
  async record(options: {
    patient: Address;
    author: Address;
    type: number;
    block: number;
  }): Promise<RecordFixture> {
    return this.insertRecord({ ...options, previous: null });
  }

  /** An amendment: a new version superseding `previous`. */
  async amend(previous: RecordFixture, options: { author?: Address; block: number }): Promise<RecordFixture> {
    const record = await this.insertRecord({
      patient: previous.patient,
      author: options.author ?? previous.author,
      type: previous.recordType,
      block: options.block,
      previous,
    });
    await this.db.query(`UPDATE ${this.p}.records SET superseded_by = $1 WHERE record_id = $2`, [
      record.recordId,
      previous.recordId,
    ]);
    return record;
  }

  private async insertRecord(options: {
    patient: Address;
    author: Address;
    type: number;
    block: number;
    previous: RecordFixture | null;
  }): Promise<RecordFixture> {
    const recordId = hex32();
    const logIndex = this.logIndex();
    const record: RecordFixture = {
      recordId,
      patient: lower(options.patient),
      author: lower(options.author),
      recordType: options.type,
      version: (options.previous?.version ?? 0) + 1,
      rootRecordId: options.previous?.rootRecordId ?? recordId,
      blockNumber: options.block,
      logIndex,
    };
    await this.db.query(
      `INSERT INTO ${this.p}.records (record_id, patient, author, submitter, record_type, content_hash,
                                     storage_pointer, previous_record_id, root_record_id, version, superseded_by,
                                     block_number, block_time, log_index, event_id)
       VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13)`,
      [
        recordId,
        record.patient,
        record.author,
        record.recordType,
        hex32(),
        `0x${randomBytes(48).toString("hex")}`,
        options.previous?.recordId ?? null,
        record.rootRecordId,
        record.version,
        options.block,
        this.blockTime(options.block),
        logIndex,
        this.eventId(options.block, logIndex),
      ],
    );
    return record;
  }

  async reading(options: {
    patient: Address;
    measuredAt: Date;
    systolic: number;
    diastolic: number;
    device?: Address;
    block?: number;
  }): Promise<string> {
    const block = options.block ?? 200;
    const eventId = this.eventId(block, this.logIndex());
    await this.db.query(
      `INSERT INTO ${this.p}.vital_readings (event_id, patient, device, measured_at, systolic, diastolic,
                                            block_number, block_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        eventId,
        lower(options.patient),
        lower(options.device ?? "0x00000000000000000000000000000000000000dd"),
        options.measuredAt,
        options.systolic,
        options.diastolic,
        block,
        this.blockTime(block),
      ],
    );
    return eventId;
  }

  async alert(options: {
    patient: Address;
    measuredAt: Date;
    systolic: number;
    diastolic: number;
    recipients: Address[];
    block?: number;
  }): Promise<AlertFixture> {
    const block = options.block ?? 210;
    const eventId = this.eventId(block, this.logIndex());
    const recipients = options.recipients.map(lower);
    await this.db.query(
      `INSERT INTO ${this.p}.alerts (event_id, patient, device, measured_at, systolic, diastolic, recipients,
                                    block_number, block_time)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        eventId,
        lower(options.patient),
        "0x00000000000000000000000000000000000000dd",
        options.measuredAt,
        options.systolic,
        options.diastolic,
        recipients,
        block,
        this.blockTime(block),
      ],
    );
    return { eventId, patient: lower(options.patient), recipients, measuredAt: options.measuredAt };
  }

  async alertRecipients(patient: Address, recipients: Address[]): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.p}.alert_recipients (patient, recipients, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (patient) DO UPDATE SET recipients = excluded.recipients, updated_at = excluded.updated_at`,
      [lower(patient), recipients.map(lower)],
    );
  }

  async vitalsRange(patient: Address, setBy: Address): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.p}.vitals_ranges (patient, set_by, systolic_min, systolic_max, diastolic_min,
                                           diastolic_max, updated_at)
       VALUES ($1, $2, 90, 140, 60, 90, now())`,
      [lower(patient), lower(setBy)],
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// The running gateway
// ---------------------------------------------------------------------------------------------------------

export type GraphQLResponse<T = Record<string, unknown>> = {
  status: number;
  data: T | null | undefined;
  errors: GraphQLFormattedError[] | undefined;
  headers: Headers;
};

export type TestGateway = {
  gateway: RunningGateway;
  subgraphs: RunningSubgraph[];
  common: Common<GatewayOptions>;
  db: Database;
  schema: TestSchema;
  fixtures: Fixtures;
  audit: AuditLog;
  supergraphSdl: string;
  /** POST /graphql as `token` (or anonymous). */
  query<T = Record<string, unknown>>(
    query: string,
    options?: {
      token?: string | null;
      variables?: Record<string, unknown>;
      operationName?: string;
      headers?: Record<string, string>;
    },
  ): Promise<GraphQLResponse<T>>;
  /** Sign-In with Ethereum through the gateway's HTTP endpoints. */
  signIn(account: PrivateKeyAccount): Promise<string>;
  createWorld(): Promise<World>;
  stop(): Promise<void>;
};

/** The projector's tables in `db`'s projection schema, from its own migrations, in order. */
export async function createProjectionTables(db: Database): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET search_path TO ${db.projection}`);
    for (const file of (await readdir(projectionMigrations)).filter((f) => f.endsWith(".sql")).sort()) {
      await client.query(upMigrationSql(await readFile(new URL(file, projectionMigrations), "utf8")));
    }
    await client.query("RESET search_path");
  } finally {
    client.release();
  }
}

/**
 * Starts our subgraphs (plus `extraSubgraphs`) and the gateway in this process on free 127.0.0.1 ports,
 * composing the supergraph from them, over a fresh schema. `subscriptions: true` also starts the event
 * feed reader over the schema's `event_feed` (then wait for `gateway.subscriptionsReady`; write events
 * with the projector's `appendFeed`).
 */
export async function createTestGateway(
  options: {
    extraSubgraphs?: readonly SubgraphDefinition[];
    subscriptions?: boolean;
    limits?: Partial<Limits>;
    audit?: { flushIntervalMs?: number; maxBatchRows?: number };
    /** Logs to stderr at this level (silent by default). */
    logLevel?: LogLevel;
  } = {},
): Promise<TestGateway> {
  const schema = await createTestSchema("gateway");
  const db = createDatabase({
    url: getStack().databaseUrl,
    projectionSchema: schema.schema,
    gatewaySchema: schema.schema,
    max: 8,
  });
  try {
    await createProjectionTables(db);

    const gatewayOptions: GatewayOptions = {
      databaseUrl: getStack().databaseUrl,
      projectionSchema: schema.schema,
      gatewaySchema: schema.schema,
      host: "127.0.0.1",
      port: 0,
      jwtSecret: randomBytes(32).toString("hex"),
      jwtTtlSeconds: 900,
      subgraphSecret: randomBytes(32).toString("hex"),
      siweDomain: testDomain,
      siweUri: `https://${testDomain}`,
      chainId: testChainId,
      nonceTtlSeconds: 300,
      rpcUrl: undefined,
      subgraphHost: "127.0.0.1",
      subgraphPorts: { identity: 0, records: 0, vitals: 0 },
      subgraphUrls: {},
      supergraphPath: "(composed in the test)",
      limits: { ...defaultLimits, ...options.limits },
      audit: {
        flushIntervalMs: options.audit?.flushIntervalMs ?? 0,
        maxBatchRows: options.audit?.maxBatchRows ?? 500,
      },
    };
    const common = createCommon("gateway-test", gatewayOptions, {
      logger: options.logLevel
        ? createLogger({ service: "gateway-test", level: options.logLevel })
        : createSilentLogger(),
    });
    const audit = createAuditLog({
      db,
      logger: common.logger,
      metrics: gatewayMetrics(common.metrics),
      owner: "all",
      ...gatewayOptions.audit,
    });
    const running = await startSubgraphs(common, { db, audit, extra: options.extraSubgraphs ?? [] });
    const definitions = [...Object.values(ourSubgraphs), ...(options.extraSubgraphs ?? [])];
    const supergraphSdl = composeSupergraph(
      definitions.map((definition) => ({
        name: definition.name,
        typeDefs: definition.typeDefs,
        url: running.urls[definition.name]!,
      })),
    );
    const gateway = await startGateway(common, {
      db,
      supergraphSdl,
      subscriptions: options.subscriptions ?? false,
      audit,
    });
    const fixtures = new Fixtures(db);

    const harness: TestGateway = {
      gateway,
      subgraphs: running.subgraphs,
      common,
      db,
      schema,
      fixtures,
      audit,
      supergraphSdl,
      async query<T>(query: string, requestOptions: Parameters<TestGateway["query"]>[1] = {}) {
        const response = await fetch(gateway.graphqlUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
            ...requestOptions.headers,
          },
          body: JSON.stringify({
            query,
            variables: requestOptions.variables,
            operationName: requestOptions.operationName,
          }),
        });
        const body = (await response.json()) as { data?: T | null; errors?: GraphQLFormattedError[] };
        return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
      },
      async signIn(account) {
        return (await signIn({ url: gateway.url, account })).token;
      },
      createWorld: () => createWorld(harness),
      async stop() {
        await gateway.stop();
        await running.close();
        await audit.stop();
        await db.close();
        await schema.drop();
      },
    };
    return harness;
  } catch (error) {
    await db.close();
    await schema.drop();
    throw error;
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
  };
};

export async function createWorld(harness: Pick<TestGateway, "fixtures" | "signIn">): Promise<World> {
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
  const now = Date.now();

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
      latestRecords: [r4, r1v2, r3, r2],
      amended: [r1, r1v2],
      otherRecords: [o2, o1],
      readings,
      alerts: [newer, older],
    },
  };
}
