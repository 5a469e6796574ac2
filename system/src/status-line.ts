// The one status line `npm start` shows while running: chain head, indexed block, lag, events/s, read from
// the chain and from the ingest and projector /metrics endpoints (Prometheus text format), then what is
// restarting and how often each process was restarted. On a terminal it is rewritten in place (\r);
// otherwise (a log file, CI) it is printed as a plain line every 10 s.
import type { SupervisedStatus } from "@carechain/stack";

/** One sample of the Prometheus text exposition format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text format (version 0.0.4): `name{label="value",...} value [timestamp]`, comments
 * and blank lines skipped, label values unescaped (\\, \", \n), NaN and ±Inf understood. Lines that do not
 * parse are skipped rather than failing the whole scrape.
 */
export function parsePrometheusText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/.exec(line);
    if (!match) continue;
    const labels = match[3] === undefined ? {} : parseLabels(match[3]);
    if (!labels) continue;
    const value = parseValue(match[4]!);
    if (value === undefined) continue;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  const pattern = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) return text.slice(at).trim() === "" ? labels : undefined;
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    at = pattern.lastIndex;
  }
  return labels;
}

function parseValue(text: string): number | undefined {
  if (text === "NaN") return Number.NaN;
  if (text === "+Inf" || text === "Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

/** The value of one series (labels must match those given), or undefined when absent. */
export function metricValue(
  samples: MetricSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  )?.value;
}

/** The sum over every series of a metric (all label values), or undefined when it has none. */
export function metricSum(samples: MetricSample[], name: string): number | undefined {
  const values = samples.filter((s) => s.name === name).map((s) => s.value);
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0);
}

/** Fetches and parses a /metrics endpoint; undefined when it does not answer. */
export async function scrape(url: string, timeoutMs = 2_000): Promise<MetricSample[] | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return parsePrometheusText(await response.text());
  } catch {
    return undefined;
  }
}

/** What the status line shows. Undefined figures are shown as "?" (a service not answering). */
export interface StatusSample {
  at: number;
  head: number | undefined;
  indexed: number | undefined;
  /** Messages the projector has not applied yet (sum over partitions). */
  projectorLag: number | undefined;
  /** Counters: envelopes ingest published, events the projector applied (since their start). */
  ingestEvents: number | undefined;
  projectedEvents: number | undefined;
  /** The supervised services and servers: what is restarting, restart counts. */
  supervision?: SupervisedStatus[];
}

/** Reads the figures from the ingest and projector metrics (the head from ingest, or from `head()`). */
export async function sampleStatus(sources: {
  ingestMetricsUrl: string;
  projectorMetricsUrl: string;
  head: () => Promise<number | undefined>;
  supervision?: () => SupervisedStatus[];
}): Promise<StatusSample> {
  const [ingest, projector, head] = await Promise.all([
    scrape(sources.ingestMetricsUrl),
    scrape(sources.projectorMetricsUrl),
    sources.head().catch(() => undefined),
  ]);
  return {
    at: Date.now(),
    head: head ?? (ingest && metricValue(ingest, "carechain_ingest_head_block")),
    indexed: ingest && metricValue(ingest, "carechain_ingest_indexed_block"),
    projectorLag: projector && metricSum(projector, "carechain_projector_lag"),
    // A labelled counter has no series until first incremented: 0 when the endpoint answered.
    ingestEvents: ingest && (metricSum(ingest, "carechain_ingest_events_total") ?? 0),
    projectedEvents: projector && (metricSum(projector, "carechain_projector_events_applied_total") ?? 0),
    supervision: sources.supervision?.(),
  };
}

/** "ingest restarting (2nd, in 4 s)", "projector GAVE UP", "restarts: ingest 2, projector 1"; "" when calm. */
export function formatSupervision(statuses: SupervisedStatus[], now: number): string {
  const parts: string[] = [];
  for (const s of statuses) {
    if (s.state === "restarting") {
      const when =
        s.nextAttemptAt === undefined
          ? "starting"
          : `in ${Math.max(Math.ceil((s.nextAttemptAt - now) / 1000), 0)} s`;
      parts.push(`${s.name} restarting (${ordinal(s.attempt ?? 1)}, ${when})`);
    } else if (s.state === "gave-up") {
      parts.push(`${s.name} GAVE UP`);
    }
  }
  const counts = statuses.filter((s) => s.restarts > 0).map((s) => `${s.name} ${s.restarts}`);
  if (counts.length > 0) parts.push(`restarts: ${counts.join(", ")}`);
  return parts.join(" · ");
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/** The line for `now`, with rates from the change since `previous`. */
export function formatStatus(now: StatusSample, previous?: StatusSample): string {
  const show = (value: number | undefined) => (value === undefined ? "?" : String(value));
  const lag =
    now.head !== undefined && now.indexed !== undefined ? String(Math.max(now.head - now.indexed, 0)) : "?";
  const rate = (current: number | undefined, before: number | undefined) => {
    if (!previous || current === undefined || before === undefined || now.at <= previous.at) return "?";
    // A counter that went down belongs to a restarted process: no rate for this interval.
    if (current < before) return "?";
    return ((current - before) / ((now.at - previous.at) / 1000)).toFixed(1);
  };
  const supervision = formatSupervision(now.supervision ?? [], now.at);
  return [
    `head ${show(now.head)}`,
    `indexed ${show(now.indexed)}`,
    `lag ${lag} blocks, ${show(now.projectorLag)} msgs`,
    `${rate(now.ingestEvents, previous?.ingestEvents)} events/s ingested, ${rate(
      now.projectedEvents,
      previous?.projectedEvents,
    )} projected`,
    ...(supervision ? [supervision] : []),
  ].join(" · ");
}

/** Prints the status line: in place on a TTY (at most every `ttyEveryMs`), else a log line every 10 s. */
export class StatusLine {
  private previous: StatusSample | undefined;
  private lastPrinted = 0;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    private readonly plainEveryMs = 10_000,
  ) {}

  get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  update(sample: StatusSample): void {
    const line = formatStatus(sample, this.previous);
    if (this.isTTY) {
      const width = (this.out.columns ?? 120) - 1;
      this.out.write(`\r${line.slice(0, width)}\x1b[K`);
      this.shown = true;
      this.previous = sample;
    } else if (sample.at - this.lastPrinted >= this.plainEveryMs) {
      this.out.write(`[status] ${line}\n`);
      this.lastPrinted = sample.at;
      this.previous = sample;
    }
  }

  /** Ends the in-place line (before other output, and on stop). */
  clear(): void {
    if (this.isTTY && this.shown) this.out.write("\r\x1b[K");
    this.shown = false;
  }
}
