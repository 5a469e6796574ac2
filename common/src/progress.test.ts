import { describe, expect, test } from "vitest";
import { formatDuration, Progress } from "./progress.ts";

describe("Progress", () => {
  test("default: rate and ETA over the window", () => {
    let now = 0;
    const progress = new Progress(1000, 10_000, () => now);
    now = 1000;
    progress.advance(100, 500);
    now = 2000;
    progress.advance(100, 500);
    const snapshot = progress.snapshot();
    expect(snapshot.done).toBe(200);
    expect(snapshot.items).toBe(1000);
    expect(snapshot.perSecond).toBe(100);
    expect(snapshot.itemsPerSecond).toBe(500);
    expect(snapshot.etaSeconds).toBe(8);
    expect(snapshot.percent).toBe(20);
  });

  test("behavior: no ETA before any progress", () => {
    expect(new Progress(10, 1000, () => 0).snapshot().etaSeconds).toBeNull();
  });

  test("formatDuration", () => {
    expect(formatDuration(null)).toBe("?");
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(125)).toBe("2m5s");
    expect(formatDuration(7260)).toBe("2h1m");
  });
});
