import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { runArgs } from "./config.ts";

describe("runArgs", () => {
  test("default: automine, the answer cache on, nothing passed to k6", () => {
    expect(runArgs([])).toMatchObject({ blockTime: undefined, answerCache: true, automine: false, vars: {} });
  });

  test("args: --block-time and k6 variables", () => {
    expect(
      runArgs(["--block-time", "2", "--write-rate", "20", "--scenarios", "Mixed,MixedWrites"]),
    ).toMatchObject({
      blockTime: 2,
      vars: { WRITE_RATE: "20", SCENARIOS: "Mixed,MixedWrites" },
    });
  });

  test("error: a block time that is not a whole number of seconds from 1 to 60", () => {
    for (const value of ["0", "1.5", "61", "soon"]) {
      expect(() => runArgs(["--block-time", value])).toThrow(ConfigError);
    }
  });
});
