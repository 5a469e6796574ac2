export type AdaptiveRangeOptions = {
  /** Largest range asked of the RPC (MAX_BLOCK_RANGE). */
  max: number;
  min?: number;
  initial?: number;
  /** A query answered within half this time lets the range grow; one slower than twice it shrinks it. */
  targetMs?: number;
  /** Logs wanted per query (and so per Kafka transaction); more shrinks the range in proportion. */
  targetLogs?: number;
};

/**
 * How many blocks the next eth_getLogs asks for. Providers cap ranges and result counts, and the right
 * size changes along the chain (quiet stretches vs busy ones), so the size halves when the RPC refuses or
 * times out, grows while it answers fast with few logs, and follows the log density otherwise.
 */
export class AdaptiveRange {
  readonly max: number;
  readonly min: number;
  private readonly targetMs: number;
  private readonly targetLogs: number;
  private current: number;

  constructor(options: AdaptiveRangeOptions) {
    this.max = Math.max(1, options.max);
    this.min = Math.min(this.max, Math.max(1, options.min ?? 1));
    this.targetMs = options.targetMs ?? 2_000;
    this.targetLogs = options.targetLogs ?? 10_000;
    this.current = this.clamp(options.initial ?? this.max);
  }

  get size(): number {
    return this.current;
  }

  /** A query of `blocks` blocks returned `logs` logs in `durationMs`. */
  onSuccess(blocks: number, durationMs: number, logs: number): void {
    if (logs > this.targetLogs) {
      this.current = this.clamp(Math.floor((blocks * this.targetLogs) / logs));
    } else if (durationMs > this.targetMs * 2) {
      this.current = this.clamp(Math.floor(blocks / 2));
    } else if (durationMs < this.targetMs / 2 && logs < this.targetLogs / 2 && blocks >= this.current) {
      // Grow only from a full-size success: a short range at the head says nothing about capacity.
      const byLogs =
        logs > 0 ? Math.floor((blocks * this.targetLogs) / (2 * logs)) : Number.POSITIVE_INFINITY;
      this.current = this.clamp(Math.min(this.current * 2, Math.max(byLogs, this.current)));
    }
  }

  /**
   * The RPC refused a query of `blocks` blocks (or timed out on it). Returns false when the range is already
   * at its minimum: shrinking cannot help then.
   */
  onRefused(blocks: number, suggestedBlocks?: number): boolean {
    if (blocks <= this.min) return false;
    const halved = Math.floor(blocks / 2);
    const next =
      suggestedBlocks !== undefined && suggestedBlocks > 0 ? Math.min(suggestedBlocks, halved) : halved;
    this.current = this.clamp(next);
    return true;
  }

  private clamp(value: number): number {
    return Math.min(this.max, Math.max(this.min, value));
  }
}
