import type { Metrics } from "@carechain/common";
import type { Counter, Gauge, Histogram } from "prom-client";

/**
 * The gateway's instruments. Several pieces (gateway, subgraphs, audit logs) may share one registry when
 * they run in one process, so each instrument is created once per registry and then reused.
 */
export type GatewayMetrics = {
  requests: Counter<"operation" | "status">;
  duration: Histogram<"operation">;
  errors: Counter<"code">;
  auditQueueDepth: Gauge<"owner">;
  auditHealthy: Gauge<"owner">;
  auditRefused: Counter<"owner" | "reason">;
  subscriptions: Gauge<"field">;
  signIns: Counter<"result">;
  subgraphRequests: Counter<"subgraph" | "outcome">;
  eventsReceived: Counter<"type">;
  answerCache: Counter<"result">;
};

const cache = new WeakMap<Metrics, GatewayMetrics>();

export function gatewayMetrics(metrics: Metrics): GatewayMetrics {
  let instruments = cache.get(metrics);
  if (!instruments) {
    instruments = {
      requests: metrics.counter(
        "carechain_gateway_requests_total",
        "GraphQL requests by operation name and HTTP status.",
        ["operation", "status"],
      ),
      duration: metrics.histogram("carechain_gateway_request_duration_seconds", "GraphQL request latency.", {
        labelNames: ["operation"],
      }),
      errors: metrics.counter("carechain_gateway_errors_total", "GraphQL errors returned, by code.", [
        "code",
      ]),
      auditQueueDepth: metrics.gauge(
        "carechain_gateway_audit_queue_depth",
        "Audit entries waiting to be written.",
        ["owner"],
      ),
      auditHealthy: metrics.gauge(
        "carechain_gateway_audit_healthy",
        "1 while the last audit write succeeded; 0 while reads are refused because they cannot be audited (alert on 0).",
        ["owner"],
      ),
      auditRefused: metrics.counter(
        "carechain_gateway_audit_refused_total",
        "Reads refused because their audit entry could not be stored, by reason.",
        ["owner", "reason"],
      ),
      subscriptions: metrics.gauge("carechain_gateway_subscriptions", "Open GraphQL subscriptions.", [
        "field",
      ]),
      signIns: metrics.counter("carechain_gateway_sign_ins_total", "Sign-in attempts by result.", ["result"]),
      subgraphRequests: metrics.counter(
        "carechain_subgraph_requests_total",
        "Requests received by subgraphs, by outcome.",
        ["subgraph", "outcome"],
      ),
      eventsReceived: metrics.counter(
        "carechain_gateway_events_received_total",
        "Event envelopes read from the projector's committed event feed for subscriptions.",
        ["type"],
      ),
      answerCache: metrics.counter(
        "carechain_gateway_answer_cache_total",
        "Requests by what the answer cache did: hit, miss (executed), stored, bypass (not cacheable).",
        ["result"],
      ),
    };
    cache.set(metrics, instruments);
  }
  return instruments;
}

/** Client-chosen operation names as a metric label, without letting clients create unbounded series. */
export function operationLabel(name: string | null | undefined, seen: Set<string>, max = 200): string {
  if (!name) return "anonymous";
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) return "invalid";
  if (seen.has(name)) return name;
  if (seen.size >= max) return "other";
  seen.add(name);
  return name;
}
