import { formatDuration, type Logger, type Metrics, Progress } from "@carechain/common";

/** The Prometheus figures of ingest, served on /metrics by the health server. */
export function createIngestMetrics(metrics: Metrics) {
  return {
    blocks: metrics.counter(
      "carechain_ingest_blocks_total",
      "Blocks ingested (published up to the checkpoint).",
    ),
    events: metrics.counter("carechain_ingest_events_total", "Envelopes published to the events topic.", [
      "kind",
    ]),
    headBlock: metrics.gauge("carechain_ingest_head_block", "Latest block number of the chain head."),
    indexedBlock: metrics.gauge(
      "carechain_ingest_indexed_block",
      "Last block covered by the committed checkpoint.",
    ),
    lagBlocks: metrics.gauge(
      "carechain_ingest_lag_blocks",
      "Blocks between the chain head and the indexed block.",
    ),
    rpcErrors: metrics.counter("carechain_ingest_rpc_errors_total", "Failed RPC calls.", ["method", "kind"]),
    deadLetters: metrics.counter(
      "carechain_ingest_dead_letters_total",
      "Logs sent to the dead-letter topic.",
    ),
    reorgs: metrics.counter("carechain_ingest_reorgs_total", "Reorgs repaired (retractions published)."),
    blockRange: metrics.gauge("carechain_ingest_block_range", "Current eth_getLogs block range."),
    transactionSeconds: metrics.histogram(
      "carechain_ingest_transaction_seconds",
      "Kafka transaction duration.",
    ),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;

/**
 * The console side of progress: one log line every `everyMs` while behind the head (blocks/s, events/s,
 * ETA from common's Progress over a sliding window), quiet once following the head.
 */
export class ProgressLog {
  private progress: Progress | undefined;
  private lastLog = 0;
  private base = 0;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 5_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `from`: first block of the backfill, `head`: its target. Restarts the rates. */
  begin(from: number, head: number): void {
    this.base = from - 1;
    this.progress = new Progress(Math.max(head - this.base, 0), 10_000, this.now);
    this.lastLog = this.now();
    this.logger.info({ from, head, blocks: head - this.base }, "backfill started");
  }

  advance(blocks: number, events: number, indexed: number, head: number): void {
    if (!this.progress) return;
    this.progress.advance(blocks, events);
    const lag = head - indexed;
    const at = this.now();
    if (lag <= 0) {
      const s = this.progress.snapshot();
      this.logger.info(
        { block: indexed, blocks: s.done, events: s.items },
        "backfill done, following the head",
      );
      this.progress = undefined;
    } else if (at - this.lastLog >= this.everyMs) {
      this.lastLog = at;
      const s = this.progress.snapshot();
      this.logger.info(
        {
          block: indexed,
          head,
          lag,
          percent: Math.round(s.percent * 10) / 10,
          blocksPerSecond: Math.round(s.perSecond),
          eventsPerSecond: Math.round(s.itemsPerSecond),
          eta: formatDuration(lag / Math.max(s.perSecond, 1e-9)),
        },
        "backfill progress",
      );
    }
  }

  get active(): boolean {
    return this.progress !== undefined;
  }
}
