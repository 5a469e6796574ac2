import { afterEach, describe, expect, test } from "vitest";
import { createTestDatabase, Fixtures, lower, newAccount } from "../testing/index.ts";
import { createVitalsLoaders } from "./vitals.ts";

let drop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await drop?.();
  drop = undefined;
});

describe("latestReading", () => {
  test("default: per patient the newest measurement, a tie going to the lowest event id; none without readings", async () => {
    const created = await createTestDatabase();
    drop = created.drop;
    const f = new Fixtures(created.db);
    const [many, tied, none] = [
      lower(newAccount().address),
      lower(newAccount().address),
      lower(newAccount().address),
    ];
    const at = (minutes: number) => new Date(Date.UTC(2026, 10, 1, 8, minutes));
    for (const patient of [many, tied, none]) await f.patient(patient);

    // Stored out of time order: the newest is neither the first nor the last written.
    const newest = await f.reading({ patient: many, measuredAt: at(30), systolic: 130, diastolic: 85 });
    await f.reading({ patient: many, measuredAt: at(10), systolic: 110, diastolic: 70 });
    await f.reading({ patient: many, measuredAt: at(20), systolic: 120, diastolic: 80 });
    const tiedIds = [
      await f.reading({ patient: tied, measuredAt: at(40), systolic: 141, diastolic: 91 }),
      await f.reading({ patient: tied, measuredAt: at(40), systolic: 142, diastolic: 92 }),
    ];
    await f.reading({ patient: tied, measuredAt: at(5), systolic: 100, diastolic: 60 });

    const loaders = createVitalsLoaders(created.db);
    const [ofMany, ofTied, ofNone] = await loaders.latestReading.loadMany([many, tied, none]);
    expect(ofMany).toMatchObject({ patient: many, eventId: newest, systolic: 130, diastolic: 85 });
    expect(ofTied).toMatchObject({ patient: tied, eventId: [...tiedIds].sort()[0] });
    expect(ofNone).toBeNull();
  });
});
