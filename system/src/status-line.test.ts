import { PassThrough } from "node:stream";
import type { SupervisedStatus } from "@carechain/stack";
import { describe, expect, test } from "vitest";
import {
  formatStatus,
  formatSupervision,
  metricSum,
  metricValue,
  parsePrometheusText,
  StatusLine,
  type StatusSample,
} from "./status-line.ts";

// What prom-client serves on /metrics (ingest and projector), trimmed.
const scrape = `# HELP carechain_ingest_head_block Latest block number of the chain head.
# TYPE carechain_ingest_head_block gauge
carechain_ingest_head_block 1234

# HELP carechain_ingest_indexed_block Last block covered by the committed checkpoint.
# TYPE carechain_ingest_indexed_block gauge
carechain_ingest_indexed_block 1230
# HELP carechain_ingest_events_total Envelopes published to the events topic.
# TYPE carechain_ingest_events_total counter
carechain_ingest_events_total{kind="event"} 40
carechain_ingest_events_total{kind="retraction"} 2
# HELP carechain_projector_lag Messages not yet applied, per partition
# TYPE carechain_projector_lag gauge
carechain_projector_lag{partition="0"} 3
carechain_projector_lag{partition="1"} 0
carechain_projector_lag{partition="2"} 1
carechain_ingest_transaction_seconds_bucket{le="0.005"} 7
carechain_ingest_transaction_seconds_bucket{le="+Inf"} 9
carechain_ingest_transaction_seconds_sum 0.0421
nodejs_heap_size_total_bytes 5.24288e+07 1700000000000
odd_labels{path="a\\\\b",quote="say \\"hi\\"",line="x\\ny", empty=""} 1
broken_line{unclosed="x} 5
not_a_number NaN
infinite +Inf
`;

describe("parsePrometheusText", () => {
  test("default: gauges, counters with labels, comments and blank lines skipped", () => {
    const samples = parsePrometheusText(scrape);
    expect(metricValue(samples, "carechain_ingest_head_block")).toBe(1234);
    expect(metricValue(samples, "carechain_ingest_indexed_block")).toBe(1230);
    expect(metricValue(samples, "carechain_ingest_events_total", { kind: "retraction" })).toBe(2);
    expect(metricSum(samples, "carechain_ingest_events_total")).toBe(42);
    expect(metricSum(samples, "carechain_projector_lag")).toBe(4);
    expect(samples.some((s) => s.name.startsWith("#"))).toBe(false);
  });

  test("args: exponents, timestamps, +Inf in labels and values, NaN", () => {
    const samples = parsePrometheusText(scrape);
    expect(metricValue(samples, "nodejs_heap_size_total_bytes")).toBe(52_428_800);
    expect(metricValue(samples, "carechain_ingest_transaction_seconds_bucket", { le: "+Inf" })).toBe(9);
    expect(metricValue(samples, "carechain_ingest_transaction_seconds_sum")).toBeCloseTo(0.0421);
    expect(metricValue(samples, "not_a_number")).toBeNaN();
    expect(metricValue(samples, "infinite")).toBe(Number.POSITIVE_INFINITY);
  });

  test("behavior: escaped label values are unescaped; a malformed line is skipped, not fatal", () => {
    const samples = parsePrometheusText(scrape);
    expect(samples.find((s) => s.name === "odd_labels")?.labels).toEqual({
      path: "a\\b",
      quote: 'say "hi"',
      line: "x\ny",
      empty: "",
    });
    expect(samples.find((s) => s.name === "broken_line")).toBeUndefined();
  });

  test("behavior: absent metrics are undefined, not 0", () => {
    const samples = parsePrometheusText("");
    expect(metricValue(samples, "carechain_ingest_head_block")).toBeUndefined();
    expect(metricSum(samples, "carechain_projector_lag")).toBeUndefined();
  });
});

const sample = (at: number, fields: Partial<StatusSample>): StatusSample => ({
  at,
  head: 100,
  indexed: 98,
  projectorLag: 5,
  ingestEvents: 10,
  projectedEvents: 8,
  ...fields,
});

describe("formatStatus", () => {
  test("default: head, indexed, lag and rates from the previous sample", () => {
    const line = formatStatus(
      sample(12_000, { ingestEvents: 30, projectedEvents: 28 }),
      sample(2_000, { ingestEvents: 10, projectedEvents: 8 }),
    );
    expect(line).toBe("head 100 · indexed 98 · lag 2 blocks, 5 msgs · 2.0 events/s ingested, 2.0 projected");
  });

  test("behavior: unknown figures show as ?, and a counter that went down (restart) gives no rate", () => {
    const line = formatStatus(
      sample(2_000, { indexed: undefined, projectorLag: undefined, ingestEvents: 3 }),
      sample(1_000, { ingestEvents: 10 }),
    );
    expect(line).toBe("head 100 · indexed ? · lag ? blocks, ? msgs · ? events/s ingested, 0.0 projected");
  });

  test("behavior: what is restarting (which attempt, when) and the restart counts follow the figures", () => {
    const status = (fields: Partial<SupervisedStatus> & { name: string }): SupervisedStatus => ({
      state: "running",
      pid: 1,
      restarts: 0,
      attempt: undefined,
      nextAttemptAt: undefined,
      ...fields,
    });
    const line = formatStatus(
      sample(10_000, {
        supervision: [
          status({ name: "kafka" }),
          status({
            name: "ingest",
            state: "restarting",
            pid: undefined,
            restarts: 1,
            attempt: 2,
            nextAttemptAt: 13_200,
          }),
          status({ name: "projector", state: "restarting", pid: undefined, attempt: 1 }),
          status({ name: "gateway", restarts: 3 }),
        ],
      }),
    );
    expect(line).toBe(
      "head 100 · indexed 98 · lag 2 blocks, 5 msgs · ? events/s ingested, ? projected · ingest restarting (2nd, in 4 s) · projector restarting (1st, starting) · restarts: ingest 1, gateway 3",
    );
    expect(formatSupervision([status({ name: "vitals", state: "gave-up", restarts: 4 })], 0)).toBe(
      "vitals GAVE UP · restarts: vitals 4",
    );
    // Nothing restarting, nothing restarted: the line is as before.
    expect(formatSupervision([status({ name: "ingest" })], 0)).toBe("");
  });
});

describe("StatusLine", () => {
  test("behavior: rewritten in place on a TTY; a plain line every 10 s otherwise", () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 200 });
    let ttyText = "";
    tty.on("data", (chunk: Buffer) => {
      ttyText += chunk.toString();
    });
    const onTty = new StatusLine(tty);
    onTty.update(sample(1_000, {}));
    onTty.update(sample(2_000, {}));
    onTty.clear();
    expect(ttyText.match(/\r/g)).toHaveLength(3);
    expect(ttyText).not.toContain("\n");

    const file = new PassThrough();
    let fileText = "";
    file.on("data", (chunk: Buffer) => {
      fileText += chunk.toString();
    });
    const onFile = new StatusLine(file);
    for (const at of [10_000, 12_000, 19_999, 20_000, 25_000]) onFile.update(sample(at, {}));
    expect(fileText.split("\n").filter(Boolean)).toHaveLength(2);
    expect(fileText).toMatch(/^\[status\] head 100/);
  });
});
