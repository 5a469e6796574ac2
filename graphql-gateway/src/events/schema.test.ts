import { readFileSync } from "node:fs";
import { alertFinal, chainClock, type EventEnvelope, grantExpired, retractionOf } from "@carechain/common";
import { address, hex32, makeEnvelope } from "@carechain/indexer/testing";
import { describe, expect, test } from "vitest";
import { eventJsonSchema, eventJsonSchemaFile, eventTypes, feedEventSchema, toFeedEvent } from "./schema.ts";

const patient = address("patient");
const doctor = address("doctor");
const zero = `0x${"0".repeat(64)}` as const;
let log = 0;
const at = () => ({ block: 10, logIndex: log++ });
const recordPayload = (version: number) => ({
  recordId: hex32(`r${version}`),
  patient,
  author: doctor,
  recordType: 2,
  contentHash: hex32("content"),
  storagePointer: "0x1234" as const,
  previousRecordId: version === 1 ? zero : hex32("r1"),
  rootRecordId: version === 1 ? zero : hex32("r1"),
  version,
  submitter: doctor,
});

const alert = makeEnvelope(
  "VitalsAlert",
  { patient, device: doctor, measuredAt: "1700000000", systolic: 170, diastolic: 100, recipients: [doctor] },
  at(),
);
const clock = chainClock(
  { chainId: 31337, number: 30, hash: hex32("block:30"), timestamp: 1_800_000_000 },
  { partition: 0, partitions: 1 },
  0,
);

/** One envelope of each delivered type. */
const envelopes: EventEnvelope[] = [
  makeEnvelope("RecordAdded", recordPayload(1), at()),
  makeEnvelope("RecordAdded", recordPayload(2), at()),
  alert,
  makeEnvelope(
    "VitalsReported",
    { patient, device: doctor, measuredAt: "1700000000", systolic: 120, diastolic: 80 },
    at(),
  ),
  makeEnvelope("AccessGranted", { patient, grantee: doctor, scopes: 5, expiresAt: "0" }, at()),
  makeEnvelope("AccessChanged", { patient, grantee: doctor, scopes: 1, expiresAt: "1800000000" }, at()),
  makeEnvelope("AccessRevoked", { patient, grantee: doctor }, at()),
  makeEnvelope(
    "EmergencyAccessOpened",
    { patient, doctor, expiresAt: "1700003600", reasonHash: hex32("reason") },
    at(),
  ),
  grantExpired(clock, { patient, grantee: doctor, expiresAt: "1800000000" }),
  alertFinal(clock, alert),
];

describe("event schema", () => {
  test("default: the committed JSON Schema is the one the zod schemas generate (npm run events:schema -w @carechain/gateway)", () => {
    expect(JSON.parse(readFileSync(eventJsonSchemaFile, "utf8"))).toEqual(eventJsonSchema());
  });

  test("behavior: every delivered type maps to an event its schema accepts", () => {
    const events = envelopes.map((envelope) => toFeedEvent(envelope)!);
    expect(events.map((event) => event.type)).toEqual([...eventTypes]);
    for (const event of events) expect(feedEventSchema.parse(event)).toEqual(event);
    expect(events[0]!.data).toMatchObject({ version: 1, rootRecordId: hex32("r1"), previousRecordId: null });
    expect(events[4]!.data).toEqual({
      grantee: doctor,
      scopes: ["READ_RECORDS", "READ_VITALS"],
      expiresAt: null,
    });
    expect(events[7]!.data).toEqual({ doctor, expiresAt: "2023-11-14T23:13:20.000Z" });
    expect(events[8]).toMatchObject({
      type: "GRANT_EXPIRED",
      data: { grantee: doctor, expiresAt: "2027-01-15T08:00:00.000Z" },
      // A fact of block 30, made by no transaction.
      blockNumber: 30,
      transactionHash: null,
      logIndex: null,
    });
    expect(events[9]!.data).toMatchObject({ alertId: alert.id, systolic: 170 });
    // The id is the envelope's, derived from the chain: the same event always has the same id.
    expect(events[0]!.id).toBe(envelopes[0]!.id);
  });

  test("behavior: a retraction has an id of its own, so that dropping duplicates does not drop it", () => {
    const retraction = toFeedEvent(retractionOf(envelopes[0]!))!;
    expect(retraction).toMatchObject({ id: `${envelopes[0]!.id}:retracted`, retracted: true });
    expect(feedEventSchema.parse(retraction)).toEqual(retraction);
  });

  test("behavior: an alert says whether it is final: only when the projector said so in the feed", () => {
    expect(toFeedEvent(alert)!.data).toMatchObject({ finality: "PROVISIONAL" });
    expect(toFeedEvent({ ...alert, final: false })!.data).toMatchObject({ finality: "PROVISIONAL" });
    expect(toFeedEvent({ ...alert, final: true })!.data).toMatchObject({ finality: "FINAL" });
  });

  test("args: events that are not delivered (registrations, devices) map to null", () => {
    expect(toFeedEvent(makeEnvelope("DeviceAuthorized", { patient, device: doctor }, at()))).toBeNull();
    expect(toFeedEvent(clock)).toBeNull(); // the chain clock is the pipeline's own
  });

  test("error: the schema refuses an event whose data does not fit its type", () => {
    const event = toFeedEvent(envelopes[6]!)!;
    expect(feedEventSchema.safeParse({ ...event, data: { doctor } }).success).toBe(false);
    expect(feedEventSchema.safeParse({ ...event, type: "UNKNOWN" }).success).toBe(false);
  });
});
