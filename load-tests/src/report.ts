// The report of a run: a table per scenario (rate, p50/p90/p95/p99, errors, thresholds), the ramp's highest
// rate at which the targets hold, and a self-contained HTML page with inline SVG charts (no CDN).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

type Values = Record<string, number>;
type Metric = {
  type: string;
  contains?: string;
  values: Values;
  thresholds?: Record<string, { ok: boolean }>;
};

export type PlanEntry = {
  name: string;
  kind: "gateway" | "legacy" | "mixed" | "writes" | "ramp";
  operation: string;
  rate?: number;
  /** Closed-loop clients (the old way). */
  vus?: number;
  stages?: number[];
  hold?: number;
  up?: number;
  startTime: number;
  seconds: number;
};

export type K6Summary = {
  plan: PlanEntry[];
  profile: string;
  targets: Record<string, string[]>;
  promise: Record<string, number>;
  tight: Record<string, number>;
  metrics: Record<string, Metric>;
  state?: { testRunDurationMs: number };
};

export type ThresholdResult = { metric: string; expression: string; ok: boolean };

export type ScenarioRow = {
  scenario: string;
  kind: PlanEntry["kind"];
  operation: string;
  targetRate: number | undefined;
  /** "200/s", "1 VU", "ramp". */
  target: string;
  /** Completed fetches (or transactions) per second over the scenario's duration. */
  rate: number;
  count: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  errors: number;
  dropped: number;
  thresholds: ThresholdResult[];
};

export type StageRow = {
  rate: number;
  achieved: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  count: number;
};

export type RampResult = {
  scenario: string;
  operation: string;
  stages: StageRow[];
  /** Highest stage rate with p95 under the product's promise, < 1 % errors and >= 95 % of the rate done. */
  highestUnderPromise: number | undefined;
  highestUnderTight: number | undefined;
  promiseMs: number;
  tightMs: number;
};

export type Report = {
  rows: ScenarioRow[];
  /** Sub-rows of the mixed workload per operation (http_req_duration). */
  mixed: { operation: string; p50: number; p90: number; p95: number; p99: number; count: number }[];
  ramps: RampResult[];
  thresholds: ThresholdResult[];
  passed: boolean;
};

const value = (metric: Metric | undefined, stat: string) => metric?.values[stat] ?? Number.NaN;

export function buildReport(summary: K6Summary): Report {
  const m = summary.metrics;
  const targets = new Set(Object.keys(summary.targets));
  const thresholds: ThresholdResult[] = [];
  for (const [metric, entry] of Object.entries(m)) {
    if (!targets.has(metric)) continue;
    for (const [expression, result] of Object.entries(entry.thresholds ?? {})) {
      if ((summary.targets[metric] ?? []).includes(expression))
        thresholds.push({ metric, expression, ok: result.ok });
    }
  }
  const rows: ScenarioRow[] = summary.plan.map((entry) => {
    const fetches = m[`fetch_duration{scenario:${entry.name}}`];
    const count = value(fetches, "count") || 0;
    return {
      scenario: entry.name,
      kind: entry.kind,
      operation: entry.operation,
      targetRate: entry.rate,
      target: entry.kind === "ramp" ? "ramp" : entry.vus ? `${entry.vus} VU` : `${entry.rate}/s`,
      rate: count / entry.seconds,
      count,
      p50: value(fetches, "p(50)"),
      p90: value(fetches, "p(90)"),
      p95: value(fetches, "p(95)"),
      p99: value(fetches, "p(99)"),
      max: value(fetches, "max"),
      errors: value(m[`fetch_errors{scenario:${entry.name}}`], "rate") || 0,
      dropped: value(m[`dropped_iterations{scenario:${entry.name}}`], "count") || 0,
      thresholds: thresholds.filter((t) => t.metric.includes(`scenario:${entry.name}`)),
    };
  });
  const mixed = ["PatientFetch", "DoctorFetch"].flatMap((operation) => {
    const metric = m[`http_req_duration{scenario:Mixed,operation:${operation}}`];
    if (!metric) return [];
    return [
      {
        operation,
        p50: value(metric, "p(50)"),
        p90: value(metric, "p(90)"),
        p95: value(metric, "p(95)"),
        p99: value(metric, "p(99)"),
        count: value(metric, "count") || 0,
      },
    ];
  });
  const ramps = summary.plan
    .filter((entry) => entry.kind === "ramp")
    .map((entry) => {
      const operation = entry.operation;
      const promiseMs = summary.promise[operation] ?? Number.POSITIVE_INFINITY;
      const tightMs = summary.tight[operation] ?? Number.POSITIVE_INFINITY;
      const stages = (entry.stages ?? []).map((rate) => {
        const metric = m[`fetch_duration{scenario:${entry.name},stage:${rate}}`];
        const count = value(metric, "count") || 0;
        return {
          rate,
          achieved: count / (entry.hold ?? 1),
          p50: value(metric, "p(50)"),
          p95: value(metric, "p(95)"),
          p99: value(metric, "p(99)"),
          errors: value(m[`fetch_errors{scenario:${entry.name},stage:${rate}}`], "rate") || 0,
          count,
        };
      });
      const holds = (limit: number) => (stage: StageRow) =>
        stage.count > 0 && stage.p95 < limit && stage.errors < 0.01 && stage.achieved >= 0.95 * stage.rate;
      // The highest step that holds (a slow first step, still warming up, does not hide the later ones).
      const highest = (limit: number) => {
        let best: number | undefined;
        for (const stage of stages) if (holds(limit)(stage)) best = stage.rate;
        return best;
      };
      return {
        scenario: entry.name,
        operation,
        stages,
        highestUnderPromise: highest(promiseMs),
        highestUnderTight: highest(tightMs),
        promiseMs,
        tightMs,
      };
    });
  return { rows, mixed, ramps, thresholds, passed: thresholds.every((t) => t.ok) };
}

const ms = (n: number) =>
  Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0)) : "-";
const pct = (n: number) => `${(n * 100).toFixed(n > 0 && n < 0.001 ? 3 : 1)}%`;

/** The short table printed at the end of a run. */
export function formatTable(report: Report): string {
  const header = [
    "scenario",
    "done/s",
    "offered",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "errors",
    "dropped",
    "thresholds",
  ];
  const lines = report.rows.map((row) => [
    row.scenario,
    row.rate.toFixed(1),
    row.target,
    ms(row.p50),
    ms(row.p95),
    ms(row.p99),
    pct(row.errors),
    String(row.dropped),
    row.thresholds.length === 0
      ? "(reported)"
      : row.thresholds.map((t) => `${t.ok ? "PASS" : "FAIL"} ${shortThreshold(t)}`).join(", "),
  ]);
  for (const sub of report.mixed) {
    lines.push([`  Mixed ${sub.operation}`, "", "", ms(sub.p50), ms(sub.p95), ms(sub.p99), "", "", ""]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [render(header), render(widths.map((w) => "-".repeat(w))), ...lines.map(render)];
  for (const ramp of report.ramps) {
    out.push(
      `${ramp.scenario}: highest rate holding p95 < ${ramp.promiseMs} ms: ${ramp.highestUnderPromise ?? "none"}/s; ` +
        `holding p95 < ${ramp.tightMs} ms: ${ramp.highestUnderTight ?? "none"}/s ` +
        `(stages ${ramp.stages.map((s) => `${s.rate}:${ms(s.p95)}ms`).join(" ")})`,
    );
  }
  out.push(report.passed ? "every target threshold passed" : "some target thresholds FAILED");
  return out.join("\n");
}

function shortThreshold(t: ThresholdResult): string {
  const metric = t.metric.startsWith("http_req_failed")
    ? "failed"
    : t.metric.startsWith("fetch_errors")
      ? "errors"
      : "";
  const op = /operation:(\w+)/.exec(t.metric)?.[1];
  return [metric, op && t.metric.includes("Mixed") ? op : "", t.expression].filter(Boolean).join(" ");
}

// ---------------------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------------------

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const COLORS = { p50: "#4e79a7", p90: "#59a14f", p95: "#f28e2b", p99: "#e15759" };

/** Latency percentiles per scenario, grouped bars on a log scale (the legacy reads are far slower). */
function latencyChart(rows: ScenarioRow[]): string {
  const data = rows.filter((row) => row.count > 0);
  const width = 900;
  const height = 360;
  const left = 80;
  const bottom = 90;
  const top = 20;
  const plotH = height - top - bottom;
  const maxValue = Math.max(10, ...data.flatMap((row) => [row.p99]).filter(Number.isFinite));
  const minValue = 0.1;
  const decades = Math.ceil(Math.log10(maxValue / minValue));
  const y = (v: number) => top + plotH - (Math.log10(Math.max(v, minValue) / minValue) / decades) * plotH;
  const group = (width - left - 20) / Math.max(data.length, 1);
  const bar = Math.min(22, (group - 12) / 4);
  const parts: string[] = [];
  for (let d = 0; d <= decades; d++) {
    const v = minValue * 10 ** d;
    parts.push(
      `<line x1="${left}" x2="${width - 10}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v >= 1 ? v : v.toFixed(1)} ms</text>`,
    );
  }
  data.forEach((row, i) => {
    const x0 = left + i * group + (group - 4 * bar) / 2;
    (["p50", "p90", "p95", "p99"] as const).forEach((stat, k) => {
      const v = row[stat];
      if (!Number.isFinite(v)) return;
      parts.push(
        `<rect x="${x0 + k * bar}" y="${y(v)}" width="${bar - 2}" height="${top + plotH - y(v)}" fill="${COLORS[stat]}"><title>${escapeHtml(row.scenario)} ${stat} ${ms(v)} ms</title></rect>`,
      );
    });
    parts.push(
      `<text x="${left + i * group + group / 2}" y="${top + plotH + 16}" font-size="11" text-anchor="end" transform="rotate(-30 ${left + i * group + group / 2} ${top + plotH + 16})">${escapeHtml(row.scenario)}</text>`,
    );
  });
  const legend = Object.entries(COLORS)
    .map(
      ([stat, color], k) =>
        `<rect x="${left + k * 70}" y="${height - 18}" width="12" height="12" fill="${color}"/><text x="${left + k * 70 + 16}" y="${height - 8}" font-size="12">${stat}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="latency percentiles per scenario">${parts.join("")}${legend}</svg>`;
}

/** Achieved throughput per scenario against its target rate. */
function throughputChart(rows: ScenarioRow[]): string {
  const data = rows.filter((row) => row.kind !== "ramp");
  const width = 900;
  const rowH = 26;
  const left = 170;
  const height = data.length * rowH + 40;
  const maxRate = Math.max(1, ...data.map((row) => Math.max(row.rate, row.targetRate ?? 0)));
  const x = (v: number) => left + (v / maxRate) * (width - left - 80);
  const parts = data.map((row, i) => {
    const yTop = 10 + i * rowH;
    const target = row.targetRate
      ? `<line x1="${x(row.targetRate)}" x2="${x(row.targetRate)}" y1="${yTop - 2}" y2="${yTop + rowH - 6}" stroke="#333" stroke-dasharray="3 2"/>`
      : "";
    return (
      `<text x="${left - 8}" y="${yTop + 14}" text-anchor="end" font-size="12">${escapeHtml(row.scenario)}</text>` +
      `<rect x="${left}" y="${yTop}" width="${x(row.rate) - left}" height="${rowH - 8}" fill="#76b7b2"><title>${row.rate.toFixed(1)}/s</title></rect>` +
      `<text x="${x(row.rate) + 6}" y="${yTop + 14}" font-size="12">${row.rate.toFixed(1)}/s</text>${target}`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="throughput per scenario">${parts.join("")}<text x="${left}" y="${height - 6}" font-size="11">bars: completed per second; dashed: target rate</text></svg>`;
}

/** p95 per ramp stage against the offered rate (log scale), with the promise and our tighter target. */
function rampChart(ramp: RampResult): string {
  const width = 460;
  const height = 270;
  const left = 70;
  const bottom = 40;
  const top = 20;
  const plotW = width - left - 20;
  const plotH = height - top - bottom;
  const stages = ramp.stages.filter((s) => s.count > 0);
  const maxRate = Math.max(1, ...ramp.stages.map((s) => s.rate));
  const minMs = 1;
  const maxMs = Math.max(ramp.promiseMs * 2, ...stages.map((s) => s.p95).filter(Number.isFinite));
  const decades = Math.ceil(Math.log10(maxMs / minMs));
  const x = (rate: number) => left + (rate / maxRate) * plotW;
  const y = (v: number) => top + plotH - (Math.log10(Math.max(v, minMs) / minMs) / decades) * plotH;
  const grid = Array.from({ length: decades + 1 }, (_, d) => minMs * 10 ** d)
    .map(
      (v) =>
        `<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="10">${v} ms</text>`,
    )
    .join("");
  const line = (v: number, color: string, label: string) =>
    `<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="${color}" stroke-dasharray="4 3"/><text x="${left + 4}" y="${y(v) - 4}" font-size="11" fill="${color}">${label}</text>`;
  const points = stages.map((s) => `${x(s.rate)},${y(s.p95)}`).join(" ");
  const dots = stages
    .map(
      (s) =>
        `<circle cx="${x(s.rate)}" cy="${y(s.p95)}" r="3.5" fill="#f28e2b"><title>${s.rate}/s offered, ${s.achieved.toFixed(0)}/s done, p95 ${ms(s.p95)} ms, errors ${pct(s.errors)}</title></circle>`,
    )
    .join("");
  const ticks = ramp.stages
    .map(
      (s) =>
        `<text x="${x(s.rate)}" y="${top + plotH + 14}" font-size="10" text-anchor="middle">${s.rate}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(ramp.scenario)} p95 per stage">
${grid}<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#999"/><line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#999"/>
${line(ramp.promiseMs, "#e15759", `promise p95 &lt; ${ramp.promiseMs} ms`)}${line(ramp.tightMs, "#59a14f", `ours p95 &lt; ${ramp.tightMs} ms`)}
<polyline points="${points}" fill="none" stroke="#f28e2b" stroke-width="2"/>${dots}${ticks}
<text x="${left + plotW / 2}" y="${height - 6}" font-size="11" text-anchor="middle">offered rate (requests/s); p95 on a log scale</text></svg>`;
}

export function renderHtml(report: Report, context: { title: string; facts: [string, string][] }): string {
  const cell = (s: string | number) => `<td>${escapeHtml(String(s))}</td>`;
  const rows = report.rows
    .map(
      (row) =>
        `<tr>${cell(row.scenario)}${cell(row.kind)}${cell(row.target)}${cell(row.rate.toFixed(1))}${cell(row.count)}${cell(ms(row.p50))}${cell(ms(row.p90))}${cell(ms(row.p95))}${cell(ms(row.p99))}${cell(pct(row.errors))}${cell(row.dropped)}<td>${
          row.thresholds.length === 0
            ? "<span class=muted>reported only</span>"
            : row.thresholds
                .map(
                  (t) =>
                    `<span class="${t.ok ? "pass" : "fail"}">${t.ok ? "PASS" : "FAIL"}</span> ${escapeHtml(shortThreshold(t))}`,
                )
                .join("<br>")
        }</td></tr>`,
    )
    .join("\n");
  const mixedRows = report.mixed
    .map(
      (sub) =>
        `<tr>${cell(`Mixed: ${sub.operation}`)}${cell(sub.count)}${cell(ms(sub.p50))}${cell(ms(sub.p90))}${cell(ms(sub.p95))}${cell(ms(sub.p99))}</tr>`,
    )
    .join("");
  // The old way (closed loop, one fetch at a time) against the gateway: at the fixed rate, and at the ramp's
  // highest step that keeps the promise (the gateway's capacity on this machine).
  const gains = report.rows
    .filter((row) => row.kind === "legacy" && row.count > 0)
    .map((old) => {
      const operation = old.operation.replace(/^Legacy/, "");
      const fixed = report.rows.find((r) => r.kind === "gateway" && r.operation === operation);
      const ramp = report.ramps.find((r) => r.operation === operation);
      const step = ramp?.stages.find((stage) => stage.rate === ramp.highestUnderPromise);
      const at = (p50: number, p95: number, rate: number) =>
        `${ms(p50)} / ${ms(p95)} ms at ${rate.toFixed(1)}/s`;
      return `<tr>${cell(operation)}${cell(at(old.p50, old.p95, old.rate))}${cell(fixed ? at(fixed.p50, fixed.p95, fixed.rate) : "-")}${cell(
        step ? at(step.p50, step.p95, step.achieved) : "-",
      )}${cell(
        step && step.p95 > 0
          ? `${(old.p95 / step.p95).toFixed(0)}x lower p95, ${(step.achieved / Math.max(old.rate, 1e-9)).toFixed(0)}x the throughput`
          : "-",
      )}</tr>`;
    })
    .join("");
  const ramps = report.ramps
    .map(
      (ramp) => `<div class=ramp><h3>${escapeHtml(ramp.scenario)}</h3>${rampChart(ramp)}
<p>Highest offered rate with p95 &lt; ${ramp.promiseMs} ms, &lt; 1 % errors and &ge; 95 % of the rate done:
<b>${ramp.highestUnderPromise ?? "none"}/s</b>; with p95 &lt; ${ramp.tightMs} ms: <b>${ramp.highestUnderTight ?? "none"}/s</b>.</p>
<table><tr><th>offered/s</th><th>done/s</th><th>p95 ms</th><th>p99 ms</th><th>errors</th></tr>${ramp.stages
        .map(
          (s) =>
            `<tr>${cell(s.rate)}${cell(s.achieved.toFixed(1))}${cell(ms(s.p95))}${cell(ms(s.p99))}${cell(pct(s.errors))}</tr>`,
        )
        .join("")}</table></div>`,
    )
    .join("");
  const facts = context.facts
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(context.title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f6f6}.pass{color:#1a7f37;font-weight:600}.fail{color:#c62828;font-weight:600}.muted{color:#888}
.ramps{display:flex;flex-wrap:wrap;gap:24px}.ramp{flex:1 1 440px}h2{margin-top:28px}
</style></head><body>
<h1>${escapeHtml(context.title)}</h1>
<p class=${report.passed ? "pass" : "fail"}>${report.passed ? "Every target threshold passed." : "Some target thresholds failed."}</p>
<table>${facts}</table>
<h2>Scenarios</h2>
<p>Latencies are of a whole fetch: one GraphQL request through the gateway, or all JSON-RPC rounds of the old way.</p>
<table><tr><th>scenario</th><th>kind</th><th>offered</th><th>done/s</th><th>fetches</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>errors</th><th>dropped</th><th>thresholds</th></tr>
${rows}</table>
${mixedRows ? `<h3>Mixed workload per operation (http_req_duration, ms)</h3><table><tr><th>operation</th><th>requests</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th></tr>${mixedRows}</table>` : ""}
${gains ? `<h2>Gateway against the old way</h2><p>The old way runs as one client fetching one read after another (anvil is saturated by one); the gateway at the fixed rate, and at the highest ramp step that keeps the promise.</p><table><tr><th>read</th><th>old way, p50 / p95</th><th>gateway at the fixed rate</th><th>gateway at its highest step under the promise</th><th>gain</th></tr>${gains}</table>` : ""}
<h2>Latency percentiles (log scale)</h2>${latencyChart(report.rows)}
<h2>Throughput</h2>${throughputChart(report.rows)}
${ramps ? `<h2>Ramp</h2><div class=ramps>${ramps}</div>` : ""}
</body></html>
`;
}

export function writeHtml(file: string, html: string): void {
  writeFileSync(file, html);
}

/** `tsx load-tests/src/report.ts <results folder>`: renders report.html and table.txt again from summary.json. */
async function main(dir: string): Promise<void> {
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as K6Summary;
  const run = existsSync(join(dir, "run.json"))
    ? (JSON.parse(readFileSync(join(dir, "run.json"), "utf8")) as { facts?: [string, string][] })
    : {};
  const report = buildReport(summary);
  const table = formatTable(report);
  writeHtml(
    join(dir, "report.html"),
    renderHtml(report, { title: `CareChain load test ${basename(dir)}`, facts: run.facts ?? [] }),
  );
  writeFileSync(join(dir, "table.txt"), `${table}\n`);
  process.stdout.write(`${table}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: tsx load-tests/src/report.ts <load-tests/results/<timestamp>>\n");
    process.exit(2);
  }
  await main(dir);
}
