import { describe, expect, test } from "vitest";
import { LagTracker } from "./lag.ts";

describe("LagTracker", () => {
  test("behavior: a partition with lag is stalled once its position has not moved for the threshold", () => {
    let now = 1_000_000;
    const lag = new LagTracker(undefined, () => now);
    lag.resetPosition(0, 10n);
    lag.setHigh(0, 10n);
    now += 60_000;
    expect(lag.stalled(5_000)).toEqual([]); // no lag: idle, not stalled

    lag.setHigh(0, 15n); // new messages
    now += 4_000;
    expect(lag.stalled(5_000)).toEqual([]);
    now += 1_000;
    expect(lag.stalled(5_000)).toEqual([
      { partition: 0, since: new Date(1_060_000), lag: 5n, position: 10n },
    ]);

    lag.setPosition(0, 12n); // progress: waited for from now on
    expect(lag.stalled(5_000)).toEqual([]);
    now += 5_000;
    expect(lag.stalled(5_000)).toMatchObject([{ partition: 0, lag: 3n, position: 12n }]);
    lag.setPosition(0, 15n);
    now += 60_000;
    expect(lag.stalled(5_000)).toEqual([]);
  });

  test("behavior: a rejoin at the same offset is no progress; a partition given away is forgotten", () => {
    let now = 0;
    const lag = new LagTracker(undefined, () => now);
    lag.resetPosition(0, 3n);
    lag.resetPosition(1, 3n);
    lag.setHigh(0, 9n);
    lag.setHigh(1, 9n);
    now += 20_000;
    lag.resetPosition(0, 3n); // a crash-looping consumer rejoins at its stored offset
    now += 20_000;
    expect(lag.stalled(30_000).map((s) => s.partition)).toEqual([0, 1]);
    lag.retain([0]);
    expect(lag.stalled(30_000).map((s) => s.partition)).toEqual([0]);
    expect(lag.lag(1)).toBeUndefined();
  });
});
