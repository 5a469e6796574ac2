import { createCommon, createSilentLogger, type EventEnvelope } from "@carechain/common";
import { afterEach, describe, expect, test } from "vitest";
import { ident } from "../database/pool.ts";
import { referenceFold } from "./reference-fold.ts";
import { createProjector, type Projector, type ProjectorSettings } from "./service.ts";
import { address, hex32, makeEnvelope } from "./testing/envelopes.ts";
import { generateEvents } from "./testing/generate.ts";
import { createProjectorWorld, type ProjectorWorld } from "./testing/harness.ts";

const zero = `0x${"0".repeat(64)}` as const;

/** A record of `patient` (an original unless `previous` is given). */
function record(
  patient: `0x${string}`,
  seed: string,
  at: Parameters<typeof makeEnvelope>[2],
  extra: { version?: number; recordType?: number; previous?: `0x${string}`; root?: `0x${string}` } = {},
): EventEnvelope<"RecordAdded"> {
  return makeEnvelope(
    "RecordAdded",
    {
      recordId: hex32(`record:${seed}`),
      patient,
      author: patient,
      recordType: extra.recordType ?? 1,
      contentHash: hex32(`content:${seed}`),
      storagePointer: "0xabcdef",
      previousRecordId: extra.previous ?? zero,
      rootRecordId: extra.root ?? zero,
      version: extra.version ?? 1,
      submitter: patient,
    },
    at,
  );
}

describe("projector faults", () => {
  let world: ProjectorWorld | undefined;
  let projector: Projector | undefined;
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await projector?.stop();
    await world?.cleanup();
    projector = undefined;
    world = undefined;
  });

  async function startProjector(
    w: ProjectorWorld,
    settings: ProjectorSettings = {},
    options: { stallAfterMs?: number } = {},
  ) {
    const common = createCommon(
      "projector-test",
      { ...w.options, ...options },
      { logger: createSilentLogger() },
    );
    projector = createProjector(common, settings);
    await projector.start();
    return { projector, common };
  }

  test("behavior: chain id 2^31, log index 2^31 and record version 3,000,000,000 are stored as they are", async () => {
    world = await createProjectorWorld("widths", 1);
    const patient = address("widths patient");
    const registered = makeEnvelope(
      "PatientRegistered",
      { patient, profileHash: hex32("p"), encryptionKey: hex32("k") },
      { block: 1, logIndex: 0 },
    );
    const stream: EventEnvelope[] = [
      registered,
      record(patient, "big chain", { block: 2, logIndex: 0, chainId: 2 ** 31 }),
      record(patient, "big log index", { block: 3, logIndex: 2 ** 31 }),
      record(patient, "big version", { block: 4, logIndex: 0 }, { version: 3_000_000_000 }),
      // Amends the last one: its chain of versions goes on past 2^31.
      record(
        patient,
        "after",
        { block: 5, logIndex: 0 },
        {
          version: 3_000_000_001,
          previous: hex32("record:big version"),
          root: hex32("record:big version"),
        },
      ),
      makeEnvelope("DeviceAuthorized", { patient, device: address("d") }, { block: 6, logIndex: 0 }),
    ];
    await world.produce(stream);
    const { projector: p } = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 60_000 });

    const dump = await world.dump();
    expect(dump).toEqual(referenceFold(stream));
    expect(dump.dead_letters).toEqual([]);
    expect(dump.events.map((e) => [e.chain_id, e.log_index])).toEqual(
      expect.arrayContaining([
        [2 ** 31, 0],
        [31337, 2 ** 31],
      ]),
    );
    // Through the stable views the gateway reads, with the columns' own types.
    const { rows } = await world.pool.query(
      `SELECT version::text, log_index::text FROM ${ident(world.options.schemaBase)}.records
        WHERE patient = $1 ORDER BY version, log_index`,
      [patient],
    );
    expect(rows).toEqual([
      { version: "1", log_index: "0" },
      { version: "1", log_index: "2147483648" },
      { version: "3000000000", log_index: "0" },
      { version: "3000000001", log_index: "0" },
    ]);
  });

  test("error: a value its column cannot hold is dead-lettered with the reason; the events behind it are applied", async () => {
    world = await createProjectorWorld("unfit", 1);
    const { projector: p } = await startProjector(world);
    // A column narrower than its value (as every uint32 column was): records.version back to integer.
    const base = world.options.schemaBase;
    await world.pool.query(`DROP VIEW ${ident(base)}.records`);
    await world.pool.query(`ALTER TABLE ${ident(`${base}_p1`)}.records ALTER COLUMN version TYPE integer`);

    const patient = address("unfit patient");
    const before = [
      makeEnvelope(
        "PatientRegistered",
        { patient, profileHash: hex32("p"), encryptionKey: hex32("k") },
        { block: 1, logIndex: 0 },
      ),
      record(patient, "fits", { block: 2, logIndex: 0 }),
    ];
    const unfit = record(patient, "too big", { block: 3, logIndex: 0 }, { version: 3_000_000_000 });
    // Same patient, same partition, behind the unfit event: still applied.
    const after = [
      record(patient, "behind", { block: 4, logIndex: 0 }),
      makeEnvelope(
        "AccessGranted",
        { patient, grantee: address("doctor"), scopes: 1, expiresAt: "0" },
        { block: 4, logIndex: 1 },
      ),
      makeEnvelope("AccessRevoked", { patient, grantee: address("doctor") }, { block: 5, logIndex: 0 }),
    ];
    await world.produce([...before, unfit, ...after]); // one Kafka transaction: one batch
    await p.waitForCatchUp({ timeoutMs: 60_000 });

    const dump = await world.dump();
    expect(dump.dead_letters).toEqual([
      expect.objectContaining({
        offset: 2,
        reason: expect.stringMatching(/out of range for type integer.*SQLSTATE 22003/),
      }),
    ]);
    expect({ ...dump, dead_letters: [] }).toEqual(referenceFold([...before, ...after]));
  });

  test("error: one event that violates a constraint is dead-lettered alone; the rest of its batch is applied", async () => {
    world = await createProjectorWorld("constraint", 1);
    const { projector: p } = await startProjector(world);
    await world.pool.query(
      `ALTER TABLE ${ident(`${world.options.schemaBase}_p1`)}.records
         ADD CONSTRAINT record_type_known CHECK (record_type BETWEEN 1 AND 8)`,
    );
    // A few hundred events (with duplicates and reorg retractions), the bad one in the middle.
    const stream = generateEvents(14, 400);
    const patient = stream.find((e) => e.type === "PatientRegistered")!.payload.patient as `0x${string}`;
    const bad = record(
      patient,
      "unknown type",
      { block: 100_000, logIndex: 0, fork: "bad" },
      { recordType: 9 },
    );
    const middle = 200;
    await world.produce([...stream.slice(0, middle), bad, ...stream.slice(middle)]);
    await p.waitForCatchUp({ timeoutMs: 60_000 });

    const dump = await world.dump();
    expect(dump.dead_letters).toEqual([
      expect.objectContaining({
        offset: middle,
        reason: expect.stringMatching(/record_type_known.*SQLSTATE 23514/),
      }),
    ]);
    expect({ ...dump, dead_letters: [] }).toEqual(referenceFold(stream));
  });

  test("error: health says PostgreSQL is unreachable", async () => {
    world = await createProjectorWorld("unreachable", 1);
    const common = createCommon(
      "projector-test",
      { ...world.options, databaseUrl: "postgres://nobody:nothing@127.0.0.1:1/none" },
      { logger: createSilentLogger() },
    );
    projector = createProjector(common);
    expect(await projector.health()).toMatchObject({
      ok: false,
      details: {
        kafka: true,
        database: false,
        reasons: ["the consumer has not started", expect.stringMatching(/^PostgreSQL is unreachable: /)],
      },
    });
  });

  test("behavior: health is unhealthy, with the partition and since when, while a partition with lag makes no progress", async () => {
    world = await createProjectorWorld("stall", 1);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    cleanups.push(() => release());
    // The first batch hangs before its COMMIT (a hung database call, a consumer stuck on one message).
    const { projector: p, common } = await startProjector(
      world,
      { beforeCommit: (batch) => (batch === 1 ? gate : undefined), lagRefreshMs: 200 },
      { stallAfterMs: 1_000 },
    );
    expect(await p.health()).toMatchObject({ ok: true });
    await world.produce(generateEvents(15, 50));

    await expect
      .poll(() => p.health(), { timeout: 30_000, interval: 200 })
      .toMatchObject({
        ok: false,
        details: {
          kafka: true,
          database: true,
          stalled: [{ partition: 0, offset: 0, lag: expect.any(Number) }],
          reasons: [
            expect.stringMatching(/^partition 0 has made no progress since \S+ \(lag \d+, at offset 0\)$/),
          ],
        },
      });
    expect(await common.metrics.text()).toMatch(/carechain_projector_stalled\{[^}]*partition="0"[^}]*\} 1/);

    release();
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    await expect.poll(() => p.health(), { timeout: 30_000, interval: 200 }).toMatchObject({ ok: true });
    expect(await common.metrics.text()).not.toMatch(/carechain_projector_stalled\{[^}]*\} 1/);
  });
});
