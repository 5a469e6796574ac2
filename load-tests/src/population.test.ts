import { describe, expect, it } from "vitest";
import { Population, populationSize, READINGS_PER_BATCH, referenceSize } from "./population.ts";

describe("populationSize", () => {
  it("default: scale 1 is the reference size", () => {
    expect(populationSize(1)).toEqual(referenceSize);
  });

  it("args: a small scale keeps every kind of data, grants at most one per patient and doctor", () => {
    const size = populationSize(0.0001);
    expect(size.patients).toBeGreaterThanOrEqual(4);
    expect(size.doctors).toBeGreaterThanOrEqual(2);
    expect(size.grants).toBeLessThanOrEqual(size.patients * size.doctors);
    expect(size.records).toBeGreaterThanOrEqual(size.patients);
    expect(size.readings).toBeGreaterThanOrEqual(size.patients);
  });

  it("error: a scale that is not positive", () => {
    expect(() => populationSize(0)).toThrow(RangeError);
  });
});

describe("Population", () => {
  const size = populationSize(0.01);
  const pop = new Population("test-seed", size);

  it("behavior: the same seed gives the same accounts and records, another seed others", () => {
    const again = new Population("test-seed", size);
    expect(again.patient(7)).toBe(pop.patient(7));
    expect(again.record(3, 2)).toEqual(pop.record(3, 2));
    expect(new Population("other", size).patient(7)).not.toBe(pop.patient(7));
    expect(pop.patient(7)).toMatch(/^0x[0-9a-f]{40}$/);
    expect(pop.device(7)).not.toBe(pop.patient(7));
  });

  it("behavior: the totals add up to the size, doctors get about the same number of patients", () => {
    let grants = 0;
    let records = 0;
    let readings = 0;
    for (let i = 0; i < size.patients; i++) {
      const doctors = pop.doctorsOfPatient(i);
      expect(new Set(doctors).size).toBe(doctors.length);
      grants += doctors.length;
      records += pop.recordsOfPatient(i);
      readings += pop.readingsOfPatient(i);
    }
    expect({ grants, records, readings }).toEqual({
      grants: size.grants,
      records: size.records,
      readings: size.readings,
    });
    const perDoctor = Array.from({ length: size.doctors }, (_, j) => pop.patientsOfDoctor(j).length);
    expect(Math.max(...perDoctor) - Math.min(...perDoctor)).toBeLessThanOrEqual(1);
  });

  it("behavior: records are written by a granted doctor or are the patient's own uploads", () => {
    for (let m = 0; m < pop.recordsOfPatient(5); m++) {
      const record = pop.record(5, m);
      if (record.author === "self") expect(record.recordType).toBe(8);
      else expect(pop.doctorsOfPatient(5)).toContain(record.author);
      expect(record.storagePointer).toHaveLength(2 + 128);
    }
  });

  it("behavior: readings are valid (0 < diastolic < systolic <= 300), in the past, in batches of 100", () => {
    const now = 1_800_000_000n;
    for (let m = 0; m < pop.readingsOfPatient(0); m++) {
      const reading = pop.reading(0, m, now);
      expect(reading.diastolic).toBeGreaterThan(0);
      expect(reading.diastolic).toBeLessThan(reading.systolic);
      expect(reading.systolic).toBeLessThanOrEqual(300);
      expect(reading.measuredAt).toBeLessThan(now);
    }
    const big = new Population("x", { ...size, readings: size.patients * 250 });
    expect(big.readingBatches(0)).toEqual([
      [0, READINGS_PER_BATCH],
      [100, 200],
      [200, 250],
    ]);
  });
});
