import type { Gauge } from "prom-client";

/**
 * Where the consumer is per partition (the next offset to read) against the partition's high watermark.
 * Positions come from the stored offsets and from every batch, including batches kafkajs skips because they
 * hold only transaction markers (those never reach the database but do move the position).
 */
export class LagTracker {
  private readonly positions = new Map<number, bigint>();
  private readonly highs = new Map<number, bigint>();

  constructor(private readonly gauge?: Gauge<"partition">) {}

  position(partition: number): bigint | undefined {
    return this.positions.get(partition);
  }

  setPosition(partition: number, next: bigint): void {
    const current = this.positions.get(partition);
    if (current === undefined || next > current) this.positions.set(partition, next);
    this.publish(partition);
  }

  /** After a rebalance the stored offset is the truth, even when it is behind what we saw. */
  resetPosition(partition: number, next: bigint): void {
    this.positions.set(partition, next);
    this.publish(partition);
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

  private publish(partition: number): void {
    const lag = this.lag(partition);
    if (lag !== undefined) this.gauge?.set({ partition: String(partition) }, Number(lag));
  }
}
