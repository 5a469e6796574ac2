import type { Gauge } from "prom-client";

export type Stall = { partition: number; since: Date; lag: bigint; position: bigint };

/**
 * Where the consumer is per partition (the next offset to read) against the partition's high watermark.
 * Positions come from the stored offsets and from every batch, including batches kafkajs skips because they
 * hold only transaction markers (those never reach the database but do move the position).
 * Also when each partition last made progress while it had lag: a partition with lag whose position has
 * not moved for a while is stalled (a poison message, a consumer that hangs or crash-loops).
 */
export class LagTracker {
  private readonly positions = new Map<number, bigint>();
  private readonly highs = new Map<number, bigint>();
  /** Since when (ms) the partition has had lag without its position moving; absent at lag 0. */
  private readonly waitingSince = new Map<number, number>();

  constructor(
    private readonly gauge?: Gauge<"partition">,
    private readonly now: () => number = Date.now,
  ) {}

  position(partition: number): bigint | undefined {
    return this.positions.get(partition);
  }

  setPosition(partition: number, next: bigint): void {
    const current = this.positions.get(partition);
    if (current === undefined || next > current) {
      this.positions.set(partition, next);
      this.waitingSince.delete(partition); // progress: a remaining lag is waited for from now
    }
    this.publish(partition);
  }

  /** After a rebalance the stored offset is the truth, even when it is behind what we saw. */
  resetPosition(partition: number, next: bigint): void {
    const current = this.positions.get(partition);
    // A rejoin is no progress: a consumer that crash-loops on one batch stays stalled.
    if (current === undefined || next > current) this.waitingSince.delete(partition);
    this.positions.set(partition, next);
    this.publish(partition);
  }

  /** After a rebalance: forgets the partitions this member no longer consumes (another member's now). */
  retain(partitions: readonly number[]): void {
    const kept = new Set(partitions);
    for (const partition of new Set([...this.positions.keys(), ...this.highs.keys()])) {
      if (kept.has(partition)) continue;
      this.positions.delete(partition);
      this.highs.delete(partition);
      this.waitingSince.delete(partition);
      this.gauge?.remove({ partition: String(partition) });
    }
  }

  setHigh(partition: number, high: bigint): void {
    this.highs.set(partition, high);
    this.publish(partition);
  }

  lag(partition: number): bigint | undefined {
    const high = this.highs.get(partition);
    const position = this.positions.get(partition);
    if (high === undefined || position === undefined) return undefined;
    return high > position ? high - position : 0n;
  }

  /** Partitions with lag whose position has not moved for at least `afterMs`. */
  stalled(afterMs: number): Stall[] {
    const out: Stall[] = [];
    for (const [partition, since] of this.waitingSince) {
      if (this.now() - since < afterMs) continue;
      const lag = this.lag(partition);
      const position = this.positions.get(partition);
      if (lag === undefined || lag === 0n || position === undefined) continue;
      out.push({ partition, since: new Date(since), lag, position });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  private publish(partition: number): void {
    const lag = this.lag(partition);
    if (lag === undefined) return;
    this.gauge?.set({ partition: String(partition) }, Number(lag));
    if (lag === 0n) this.waitingSince.delete(partition);
    else if (!this.waitingSince.has(partition)) this.waitingSince.set(partition, this.now());
  }
}
