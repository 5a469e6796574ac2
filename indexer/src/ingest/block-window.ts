import type { Hex } from "viem";

export type BlockRef = { number: number; hash: Hex };

/**
 * The recent canonical blocks ingest has published, newest last: number -> hash. It may be sparse (during
 * backfill only the blocks with events and range ends are fetched), which is enough: a block hash commits
 * to all its ancestors, so the newest remembered block that is still canonical is a common ancestor.
 * Kept in the checkpoint so that a restart can still repair a reorg of blocks published before it.
 */
export class BlockWindow {
  private entries: BlockRef[];

  constructor(
    readonly capacity: number,
    entries: readonly BlockRef[] = [],
  ) {
    this.entries = [...entries].sort((a, b) => a.number - b.number).slice(-capacity);
  }

  get latest(): BlockRef | undefined {
    return this.entries[this.entries.length - 1];
  }

  get oldest(): BlockRef | undefined {
    return this.entries[0];
  }

  get size(): number {
    return this.entries.length;
  }

  hashOf(number: number): Hex | undefined {
    return this.entries.find((entry) => entry.number === number)?.hash;
  }

  /** A copy with `refs` appended (numbers above the latest, ascending or not), the oldest beyond capacity dropped. */
  with(refs: readonly BlockRef[]): BlockWindow {
    const latest = this.latest?.number ?? Number.NEGATIVE_INFINITY;
    const fresh = refs.filter((ref) => ref.number > latest);
    const unique = [...new Map(fresh.map((ref) => [ref.number, ref])).values()];
    return new BlockWindow(this.capacity, [...this.entries, ...unique]);
  }

  /** A copy without the blocks above `number` (they were orphaned). */
  truncatedAfter(number: number): BlockWindow {
    return new BlockWindow(
      this.capacity,
      this.entries.filter((entry) => entry.number <= number),
    );
  }

  /**
   * The newest remembered block that is still canonical, asking `canonicalHash` newest first; undefined when
   * none is (the reorg is deeper than the window).
   */
  async commonAncestor(
    canonicalHash: (number: number) => Promise<Hex | null>,
  ): Promise<BlockRef | undefined> {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if ((await canonicalHash(entry.number)) === entry.hash) return entry;
    }
    return undefined;
  }

  toJSON(): BlockRef[] {
    return [...this.entries];
  }
}
