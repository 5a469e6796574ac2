import { describe, expect, test } from "vitest";
import { parseRange } from "./vitals-range.tsx";

const text = (systolicMin: string, systolicMax: string, diastolicMin: string, diastolicMax: string) => ({
  systolicMin,
  systolicMax,
  diastolicMin,
  diastolicMax,
});

describe("parseRange", () => {
  test("default: a range the contract accepts, as numbers", () => {
    expect(parseRange(text("90", "140", "60", "90"))).toEqual({
      systolicMin: 90,
      systolicMax: 140,
      diastolicMin: 60,
      diastolicMax: 90,
    });
    expect(parseRange(text("1", "300", "1", "300"))).toEqual({
      systolicMin: 1,
      systolicMax: 300,
      diastolicMin: 1,
      diastolicMax: 300,
    });
  });

  test("error: what the contract refuses (BadRange) is refused in words first", () => {
    expect(parseRange(text("140", "90", "60", "90"))).toMatch(/systolic lower bound/);
    expect(parseRange(text("90", "140", "90", "90"))).toMatch(/diastolic lower bound/);
    expect(parseRange(text("0", "140", "60", "90"))).toMatch(/Systolic at least: .* from 1 to 300/);
    expect(parseRange(text("90", "140", "60", "301"))).toMatch(/Diastolic at most/);
    expect(parseRange(text("90", "", "60", "90"))).toMatch(/Systolic at most/);
    expect(parseRange(text("90.5", "140", "60", "90"))).toMatch(/whole number/);
  });
});
