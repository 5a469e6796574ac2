import type { Metrics } from "@carechain/common";

/** The delivery service's instruments, on the process's registry (served at /metrics). */
export function deliveryMetrics(metrics: Metrics) {
  return {
    queueDepth: metrics.gauge(
      "delivery_queue_depth",
      "Outbox rows not settled: pending (to send) or failed (retries used up).",
      ["status"],
    ),
    attempts: metrics.counter(
      "delivery_attempts_total",
      "Send attempts by result: delivered (2xx), http_error, timeout, network_error, refused (private address).",
      ["result"],
    ),
    failures: metrics.counter(
      "delivery_failures_total",
      "Deliveries that exhausted their retries (their subscription is then failing).",
    ),
    withheld: metrics.counter(
      "delivery_withheld_total",
      "Deliveries withheld at send time: the policy no longer allows them (a revocation since).",
    ),
    filled: metrics.counter("delivery_filled_total", "Events admitted into the outbox."),
    latency: metrics.histogram(
      "delivery_latency_seconds",
      "From the event's block time to the receiver's 2xx.",
      { buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 86_400] },
    ),
    fillLag: metrics.gauge(
      "delivery_fill_lag_seq",
      "Feed rows not yet decided, summed over the subscriptions (seq behind the feed's end).",
    ),
  };
}

export type DeliveryMetrics = ReturnType<typeof deliveryMetrics>;
