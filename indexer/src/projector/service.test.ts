import type { EventEnvelope } from "@carechain/common";
import { afterEach, describe, expect, test } from "vitest";
import { generationGroupId } from "../database/schemas.ts";
import { referenceFold } from "./reference-fold.ts";
import { createProjector, type Projector } from "./service.ts";
import { address, hex32, makeEnvelope, retractionOf } from "./testing/envelopes.ts";
import { generateEvents } from "./testing/generate.ts";
import { createProjectorWorld, type ProjectorWorld } from "./testing/harness.ts";

describe("projector", () => {
  let world: ProjectorWorld | undefined;
  let projector: Projector | undefined;
  afterEach(async () => {
    await projector?.stop();
    await world?.cleanup();
    projector = undefined;
    world = undefined;
  });

  async function startProjector(w: ProjectorWorld): Promise<Projector> {
    projector = createProjector(w.common());
    await projector.start();
    return projector;
  }

  test("default", async () => {
    world = await createProjectorWorld("default");
    const stream = generateEvents(1, 1_500);
    await world.produce(stream);
    const p = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    expect(await world.dump()).toEqual(referenceFold(stream));
  });

  test("behavior: duplicates and redelivery change nothing; stored offsets beat the group's", async () => {
    world = await createProjectorWorld("redelivery");
    const stream = generateEvents(2, 1_200);
    const [first, later] = [stream.slice(0, 800), stream.slice(800)];
    await world.produce(first);
    let p = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    const once = await world.dump();
    await p.stop();
    projector = undefined;

    // The same messages again, then new ones; and Kafka's group offsets moved to the END, past all of them:
    // only the offsets stored in PostgreSQL can bring the projector to the new events.
    await world.produce(first);
    await world.produce(later);
    await world.resetGroupToEnd(generationGroupId(world.options.groupId, 1));

    p = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    expect(once).toEqual(referenceFold(first));
    expect(await world.dump()).toEqual(referenceFold([...first, ...first, ...later]));
  });

  test("behavior: a retraction restores the prior state exactly", async () => {
    world = await createProjectorWorld("retraction");
    const base = generateEvents(3, 400, { reorgs: 0, duplicates: 0 });
    await world.produce(base);
    const p = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    const before = await world.dump();

    // Events that change existing rows of several tables, each in its own later block.
    const grant = before.grants[0]!;
    const record = before.records.find((r) => r.superseded_by === null)!;
    const patient = before.patients[0]!;
    const at = (block: number) => ({ block: 10_000 + block, logIndex: 0 });
    const changes: EventEnvelope[] = [
      makeEnvelope(
        "AccessChanged",
        {
          patient: grant.patient as `0x${string}`,
          grantee: grant.grantee as `0x${string}`,
          scopes: 7,
          expiresAt: "0",
        },
        at(1),
      ),
      makeEnvelope(
        "RecordAdded",
        {
          recordId: hex32("amendment"),
          patient: record.patient as `0x${string}`,
          author: record.author as `0x${string}`,
          recordType: record.record_type as number,
          contentHash: hex32("amended content"),
          storagePointer: "0xabcdef",
          previousRecordId: record.record_id as `0x${string}`,
          rootRecordId: record.root_record_id as `0x${string}`,
          version: (record.version as number) + 1,
          submitter: record.author as `0x${string}`,
        },
        at(2),
      ),
      makeEnvelope(
        "ProfileUpdated",
        { account: patient.address as `0x${string}`, profileHash: hex32("new"), encryptionKey: hex32("key") },
        at(3),
      ),
    ];
    await world.produce(changes);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    const during = await world.dump();
    expect(during.records).toHaveLength(before.records.length + 1);

    // Newest first, as a reorg retracts; then a second retraction and an unknown one (no-ops).
    const retractions = [...changes].reverse().map(retractionOf);
    const unknown = retractionOf(
      makeEnvelope("DeviceRevoked", { patient: address("x"), device: address("y") }, at(9)),
    );
    await world.produce([...retractions, retractions[0]!, unknown]);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    const after = await world.dump();

    const { events: eventsAfter, ...tablesAfter } = after;
    const { events: eventsBefore, ...tablesBefore } = before;
    expect(tablesAfter).toEqual(tablesBefore);
    expect(eventsAfter.filter((e) => !e.retracted)).toEqual(eventsBefore);
    expect(
      eventsAfter
        .filter((e) => e.retracted)
        .map((e) => e.event_id)
        .sort(),
    ).toEqual(changes.map((e) => e.id).sort());
  });

  test("error: a malformed message goes to the dead-letter table and the consumer goes on", async () => {
    world = await createProjectorWorld("deadletter", 1);
    const patient = address("dead-letter patient");
    const registered = makeEnvelope(
      "PatientRegistered",
      { patient, profileHash: hex32("p"), encryptionKey: hex32("k") },
      { block: 1, logIndex: 0 },
    );
    // A valid uint16 above smallint's range: stored since the columns are sized for their Solidity types.
    const wide = makeEnvelope(
      "VitalsReported",
      { patient, device: address("d"), measuredAt: "1700000000", systolic: 40_000, diastolic: 80 },
      { block: 2, logIndex: 0 },
    );
    const after = makeEnvelope(
      "DeviceAuthorized",
      { patient, device: address("d") },
      { block: 3, logIndex: 0 },
    );
    await world.produceRaw([
      { key: patient, value: JSON.stringify(registered) },
      { key: patient, value: "not json {" },
      { key: patient, value: JSON.stringify({ ...registered, id: "forged" }) },
      { key: patient, value: JSON.stringify(wide) },
      { key: patient, value: JSON.stringify(after) },
    ]);
    const p = await startProjector(world);
    await p.waitForCatchUp({ timeoutMs: 30_000 });
    const dump = await world.dump();
    expect(dump.dead_letters.map((d) => [d.offset, d.reason])).toEqual([
      [1, expect.stringMatching(/^Message is not JSON/)],
      [2, expect.stringMatching(/^Event id does not match/)],
    ]);
    expect(dump.dead_letters[0]).toMatchObject({ key: `\\x${Buffer.from(patient).toString("hex")}` });
    expect(dump.events.map((e) => e.event_id)).toEqual([registered.id, wide.id, after.id].sort());
    expect(dump.vital_readings).toMatchObject([{ systolic: 40_000 }]);
    expect(dump.devices).toHaveLength(1);
  });
});
