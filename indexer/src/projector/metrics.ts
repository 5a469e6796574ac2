import type { Metrics } from "@carechain/common";

/** The projector's Prometheus instruments, created once per process (one registry per Common). */
export function projectorMetrics(metrics: Metrics) {
  return {
    lag: metrics.gauge("carechain_projector_lag", "Messages not yet applied, per partition", ["partition"]),
    stalled: metrics.gauge(
      "carechain_projector_stalled",
      "1 while a partition has lag and its position has not moved for the stall threshold",
      ["partition"],
    ),
    applied: metrics.counter(
      "carechain_projector_events_applied_total",
      "Events applied to the projections (retractions included; duplicates not)",
    ),
    duplicates: metrics.counter(
      "carechain_projector_duplicates_total",
      "Messages skipped as duplicates or redeliveries",
    ),
    lastBlock: metrics.gauge("carechain_projector_last_block", "Highest block number applied"),
    batchSeconds: metrics.histogram(
      "carechain_projector_batch_seconds",
      "Time to apply one batch (one transaction)",
    ),
    deadLetters: metrics.counter("carechain_projector_dead_letters_total", "Messages stored as dead letters"),
  };
}

export type ProjectorMetrics = ReturnType<typeof projectorMetrics>;
