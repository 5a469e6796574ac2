import type { Hex } from "viem";
import { describe, expect, test } from "vitest";
import { BlockWindow } from "./block-window.ts";

const h = (n: number, fork = 0) => `0x${(fork * 1_000_000 + n).toString(16).padStart(64, "0")}` as Hex;
const refs = (from: number, to: number, fork = 0) =>
  Array.from({ length: to - from + 1 }, (_, i) => ({ number: from + i, hash: h(from + i, fork) }));

describe("BlockWindow", () => {
  test("default: remembers the newest blocks up to its capacity", () => {
    const window = new BlockWindow(3).with(refs(1, 5));
    expect(window.toJSON().map((ref) => ref.number)).toEqual([3, 4, 5]);
    expect(window.latest).toEqual({ number: 5, hash: h(5) });
    expect(window.oldest?.number).toBe(3);
  });

  test("args: ignores blocks at or below the latest and duplicates", () => {
    const window = new BlockWindow(10).with(refs(1, 3)).with([...refs(2, 4), { number: 4, hash: h(4) }]);
    expect(window.toJSON().map((ref) => ref.number)).toEqual([1, 2, 3, 4]);
  });

  test("behavior: is immutable (with / truncatedAfter return copies) and round-trips through JSON", () => {
    const window = new BlockWindow(10).with(refs(1, 5));
    const truncated = window.truncatedAfter(3);
    expect(truncated.latest?.number).toBe(3);
    expect(window.latest?.number).toBe(5);
    const copy = new BlockWindow(10, JSON.parse(JSON.stringify(window)));
    expect(copy.toJSON()).toEqual(window.toJSON());
  });

  test("behavior: finds the newest block still canonical after a reorg", async () => {
    const window = new BlockWindow(10).with(refs(1, 8));
    // The chain now has another block 6, 7, 8, 9: the common ancestor is 5.
    const canonical = new Map([...refs(1, 5), ...refs(6, 9, 1)].map((ref) => [ref.number, ref.hash]));
    const asked: number[] = [];
    const ancestor = await window.commonAncestor(async (number) => {
      asked.push(number);
      return canonical.get(number) ?? null;
    });
    expect(ancestor).toEqual({ number: 5, hash: h(5) });
    expect(asked).toEqual([8, 7, 6, 5]);
  });

  test("behavior: a sparse window still finds an ancestor (a hash commits to all its ancestors)", async () => {
    const window = new BlockWindow(10).with([
      { number: 10, hash: h(10) },
      { number: 50, hash: h(50) },
      { number: 90, hash: h(90) },
    ]);
    const ancestor = await window.commonAncestor(async (number) => (number <= 60 ? h(number) : h(number, 2)));
    expect(ancestor?.number).toBe(50);
  });

  test("error: no ancestor when the reorg is deeper than the window (or the chain got shorter than it)", async () => {
    const window = new BlockWindow(3).with(refs(1, 6));
    expect(
      await window.commonAncestor(async (number) => (number < 4 ? h(number) : h(number, 1))),
    ).toBeUndefined();
    expect(await window.commonAncestor(async () => null)).toBeUndefined();
  });
});
