import { describe, expect, test } from "vitest";
import { ReplayGuard } from "./replay.ts";
import { memorySeenEvents } from "./seen.ts";

const t0 = new Date("2025-01-01T00:00:00Z");
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe("ReplayGuard", () => {
  test("default: the first sight is admitted, the same signed pair again is refused", () => {
    const guard = new ReplayGuard();
    expect(guard.admit({ id: "a", timestamp: t0 }, t0)).toBe(true);
    expect(guard.admit({ id: "a", timestamp: t0 }, at(10))).toBe(false);
    expect(guard.admit({ id: "b", timestamp: t0 }, at(10))).toBe(true);
    // A resend of the same event, signed afresh (new timestamp), is not a replay.
    expect(guard.admit({ id: "a", timestamp: at(30) }, at(30))).toBe(true);
    expect(guard.size).toBe(3);
    // The same id and second with another signature (another body) is another message.
    expect(guard.admit({ id: "b", timestamp: t0, signature: "other" }, at(40))).toBe(true);
  });

  test("behavior: remembered for as long as verification would accept the timestamp, then forgotten", () => {
    const guard = new ReplayGuard({ toleranceSeconds: 300 });
    guard.admit({ id: "a", timestamp: t0 }, t0);
    // Verification still accepts at exactly +300 s (whole seconds, up to +300.999): still refused here.
    expect(guard.admit({ id: "a", timestamp: t0 }, at(300.5))).toBe(false);
    // Past that, verification refuses it as too old, so the guard may forget it.
    guard.admit({ id: "other", timestamp: at(302) }, at(302));
    expect(guard.size).toBe(1);
  });

  test("behavior: memory stays bounded by maxEntries, the oldest forgotten first and counted", () => {
    const guard = new ReplayGuard({ maxEntries: 100 });
    for (let i = 0; i < 250; i++) guard.admit({ id: `e${i}`, timestamp: t0 }, t0);
    expect(guard.size).toBe(100);
    expect(guard.forgottenEarly).toBe(150);
    expect(guard.admit({ id: "e249", timestamp: t0 }, t0)).toBe(false);
    expect(guard.admit({ id: "e0", timestamp: t0 }, t0)).toBe(true);
  });

  test("behavior: a steady stream keeps only the tolerance window's worth", () => {
    const guard = new ReplayGuard({ toleranceSeconds: 60 });
    for (let s = 0; s < 1000; s++) guard.admit({ id: `e${s}`, timestamp: at(s) }, at(s));
    expect(guard.size).toBeLessThanOrEqual(62);
    expect(guard.forgottenEarly).toBe(0);
  });
});

describe("memorySeenEvents", () => {
  test("default: remembers the last `max` ids", () => {
    const seen = memorySeenEvents(3);
    for (const id of ["a", "b", "c", "d"]) void seen.add(id);
    expect(["a", "b", "c", "d"].map((id) => seen.has(id))).toEqual([false, true, true, true]);
    expect(seen.size).toBe(3);
  });
});
