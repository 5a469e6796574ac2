import { chainClock, type EventEnvelope } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { type DecodedMessage, foldBatch } from "./fold.ts";
import { keysOf } from "./projections/index.ts";
import { address, hex32, makeEnvelope, retractionOf } from "./testing/envelopes.ts";
import { WorkingSet } from "./working-set.ts";

const patient = address("patient");
const doctor = address("doctor");
const zero = `0x${"0".repeat(64)}` as const;

function record(id: string, previous: `0x${string}`, version: number, at: number): EventEnvelope {
  return makeEnvelope(
    "RecordAdded",
    {
      recordId: hex32(id),
      patient,
      author: doctor,
      recordType: 2,
      contentHash: hex32(`c${id}`),
      storagePointer: "0x01",
      previousRecordId: previous,
      rootRecordId: version === 1 ? zero : hex32("r1"),
      version,
      submitter: doctor,
    },
    { block: at, logIndex: 0 },
  );
}

/** Folds messages over an empty database (every row the events read is absent). */
function foldFresh(envelopes: EventEnvelope[]) {
  const rows = new WorkingSet();
  for (const e of envelopes)
    for (const [table, key] of keysOf(e)) if (!rows.has(table, key)) rows.seed(table, key, null);
  const messages: DecodedMessage[] = envelopes.map((envelope, i) => ({
    offset: String(i),
    key: null,
    value: null,
    envelope,
  }));
  return { result: foldBatch(messages, new Map(), new Map(), rows), rows };
}

describe("foldBatch", () => {
  test("behavior: a record and its amendment in one batch supersede in order", () => {
    const { result, rows } = foldFresh([record("r1", zero, 1, 1), record("r2", hex32("r1"), 2, 2)]);
    expect(result.applied).toBe(2);
    const upserts = rows.changes().get("records")!.upserts;
    expect(upserts.find((r) => r.record_id === hex32("r1"))).toMatchObject({ superseded_by: hex32("r2") });
    expect(upserts.find((r) => r.record_id === hex32("r2"))).toMatchObject({
      superseded_by: null,
      previous_record_id: hex32("r1"),
      root_record_id: hex32("r1"),
    });
  });

  test("behavior: a retraction in the same batch restores the before-images", () => {
    const original = record("r1", zero, 1, 1);
    const amendment = record("r2", hex32("r1"), 2, 2);
    const { result, rows } = foldFresh([original, amendment, retractionOf(amendment)]);
    expect(result).toMatchObject({ applied: 2, retracted: 1 });
    const records = rows.changes().get("records")!;
    expect(records.upserts).toEqual([
      expect.objectContaining({ record_id: hex32("r1"), superseded_by: null }),
    ]);
    expect(records.deletes).toEqual([{ record_id: hex32("r2") }]);
    expect(result.events.find((e) => e.event_id === amendment.id)).toMatchObject({ retracted: true });
    expect(result.undo.every((u) => u.event_id === original.id)).toBe(true);
  });

  test("behavior: the feed holds what deliveries may see, in log order", () => {
    const original = record("r1", zero, 1, 1);
    const amendment = record("r2", hex32("r1"), 2, 2);
    const third = record("r3", zero, 1, 3);
    // The amendment is applied and retracted within the batch: never visible, so never delivered.
    const { result } = foldFresh([original, amendment, retractionOf(amendment), third, original]);
    expect(result.feed.map((e) => [e.id, e.retracted])).toEqual([
      [original.id, false],
      [third.id, false],
    ]);
    // A retraction of an event applied in an earlier batch is delivered, after what preceded it.
    const rows = new WorkingSet();
    for (const [table, key] of keysOf(original)) rows.seed(table, key, null);
    const later = foldBatch(
      [{ offset: "9", key: null, value: null, envelope: retractionOf(original) }],
      new Map([[original.id, false]]),
      new Map([[original.id, []]]),
      rows,
    );
    expect(later.feed.map((e) => [e.id, e.retracted])).toEqual([[original.id, true]]);
  });

  test("behavior: duplicates and retractions of unknown events change nothing", () => {
    const original = record("r1", zero, 1, 1);
    const unknown = retractionOf(record("r9", zero, 1, 9));
    const { result } = foldFresh([original, original, unknown]);
    expect(result).toMatchObject({ applied: 1, duplicates: 2, retracted: 0 });
  });

  test("behavior: a uint16 above smallint's range is projected as it is (its column is an integer)", () => {
    const reading = makeEnvelope(
      "VitalsReported",
      { patient, device: address("d"), measuredAt: "1700000000", systolic: 40_000, diastolic: 80 },
      { block: 1, logIndex: 0 },
    );
    const { result, rows } = foldFresh([reading]);
    expect(result).toMatchObject({ applied: 1, deadLetters: [] });
    expect(rows.changes().get("vital_readings")?.upserts).toMatchObject([{ systolic: 40_000 }]);
  });
});

describe("foldBatch: the chain clock", () => {
  const grant = makeEnvelope(
    "AccessGranted",
    { patient, grantee: doctor, scopes: 1, expiresAt: String(1_700_000_100) },
    { block: 1, logIndex: 0, timestamp: 1_700_000_000 },
  );
  const clockAt = (block: number, timestamp: number) =>
    chainClock(
      { chainId: 31337, number: block, hash: hex32(`block:main:${block}`), timestamp },
      { partition: 0, partitions: 1 },
      0,
    );
  const types = (feed: EventEnvelope[]) => feed.map((e) => `${e.type}${e.retracted ? " retracted" : ""}`);

  test("behavior: a clock before the expiry announces nothing and leaves no trace; the first past it announces it, once", () => {
    const { result, rows } = foldFresh([
      grant,
      clockAt(2, 1_700_000_050),
      clockAt(3, 1_700_000_100),
      clockAt(4, 1_700_000_200),
    ]);
    expect(types(result.feed)).toEqual(["AccessGranted", "GrantExpired"]);
    expect(result.feed[1]!.blockNumber).toBe(3);
    // The grant and the clock that changed it: the silent clocks are not in the log.
    expect(result.events.map((row) => row.type)).toEqual(["AccessGranted", "ChainClock"]);
    expect(rows.changes().get("grants")!.upserts[0]).toMatchObject({ expired_event_id: result.feed[1]!.id });
  });

  test("behavior: a clock retracted in its own batch takes its announcement with it", () => {
    const clock = clockAt(3, 1_700_000_100);
    const { result, rows } = foldFresh([grant, clock, retractionOf(clock)]);
    expect(types(result.feed)).toEqual(["AccessGranted"]);
    expect(rows.changes().get("grants")!.upserts[0]).toMatchObject({ expired_event_id: null });
  });

  test("behavior: a revoked grant does not expire; an alert deep enough when read is final at once", () => {
    const revoked = makeEnvelope("AccessRevoked", { patient, grantee: doctor }, { block: 2, logIndex: 0 });
    const alert = {
      ...makeEnvelope(
        "VitalsAlert",
        { patient, device: doctor, measuredAt: "1700000000", systolic: 190, diastolic: 100, recipients: [] },
        { block: 2, logIndex: 1 },
      ),
      confirmations: 12,
    };
    const { result } = foldFresh([grant, revoked, alert, clockAt(3, 1_700_000_200)]);
    expect(types(result.feed)).toEqual(["AccessGranted", "AccessRevoked", "VitalsAlert"]);
    expect(result.feed[2]).toMatchObject({ final: true });
  });
});
