import { describe, expect, test } from "vitest";
import { AdaptiveRange } from "./adaptive-range.ts";

describe("AdaptiveRange", () => {
  test("default: starts at the maximum and stays there while the RPC answers fast", () => {
    const range = new AdaptiveRange({ max: 2_000 });
    expect(range.size).toBe(2_000);
    range.onSuccess(2_000, 10, 100);
    expect(range.size).toBe(2_000);
  });

  test("args: min, max and initial bound the size", () => {
    const range = new AdaptiveRange({ max: 100, min: 10, initial: 5 });
    expect(range.size).toBe(10);
    expect(new AdaptiveRange({ max: 100, initial: 500 }).size).toBe(100);
  });

  test("behavior: halves when the RPC refuses a range, down to the minimum, then says it cannot shrink", () => {
    const range = new AdaptiveRange({ max: 8, min: 2 });
    expect(range.onRefused(8)).toBe(true);
    expect(range.size).toBe(4);
    expect(range.onRefused(4)).toBe(true);
    expect(range.size).toBe(2);
    expect(range.onRefused(2)).toBe(false);
    expect(range.size).toBe(2);
  });

  test("behavior: follows a provider's suggested range when it is smaller than half", () => {
    const range = new AdaptiveRange({ max: 1_000 });
    range.onRefused(1_000, 120);
    expect(range.size).toBe(120);
  });

  test("behavior: grows back (doubling) after fast full-size answers with few logs", () => {
    const range = new AdaptiveRange({ max: 1_000, initial: 100, targetMs: 1_000, targetLogs: 10_000 });
    range.onSuccess(100, 50, 10);
    expect(range.size).toBe(200);
    range.onSuccess(200, 50, 10);
    expect(range.size).toBe(400);
    // A short range (at the head) says nothing about capacity.
    range.onSuccess(3, 5, 0);
    expect(range.size).toBe(400);
  });

  test("behavior: shrinks in proportion when a range holds more logs than wanted, and when it is slow", () => {
    const range = new AdaptiveRange({ max: 1_000, targetMs: 1_000, targetLogs: 1_000 });
    range.onSuccess(1_000, 100, 4_000);
    expect(range.size).toBe(250);
    range.onSuccess(250, 5_000, 10);
    expect(range.size).toBe(125);
  });

  test("behavior: growth is capped by the log density", () => {
    const range = new AdaptiveRange({ max: 10_000, initial: 100, targetMs: 1_000, targetLogs: 1_000 });
    range.onSuccess(100, 10, 400); // 4 logs per block: 1000 logs = 250 blocks, half of that to stay safe
    expect(range.size).toBe(125);
  });
});
