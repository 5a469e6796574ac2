/**
 * Rates and ETA for long work (backfills, seeding), over a sliding window so that the figures follow the
 * current speed rather than the average since start.
 */
export class Progress {
  private readonly samples: { at: number; done: number; items: number }[] = [];
  private done = 0;
  private items = 0;

  constructor(
    private readonly total: number,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {
    this.samples.push({ at: now(), done: 0, items: 0 });
  }

  /** `done`: units of work (blocks, accounts); `items`: things produced on the way (events). */
  advance(done: number, items = 0): void {
    this.done += done;
    this.items += items;
    const at = this.now();
    this.samples.push({ at, done: this.done, items: this.items });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  snapshot(): {
    done: number;
    total: number;
    items: number;
    perSecond: number;
    itemsPerSecond: number;
    etaSeconds: number | null;
    percent: number;
  } {
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    const seconds = Math.max((last.at - first.at) / 1000, 1e-3);
    const perSecond = (last.done - first.done) / seconds;
    const itemsPerSecond = (last.items - first.items) / seconds;
    const remaining = Math.max(this.total - this.done, 0);
    return {
      done: this.done,
      total: this.total,
      items: this.items,
      perSecond,
      itemsPerSecond,
      etaSeconds: perSecond > 0 ? remaining / perSecond : null,
      percent: this.total > 0 ? Math.min(100, (this.done / this.total) * 100) : 100,
    };
  }
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${Math.round(seconds % 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m`;
}
