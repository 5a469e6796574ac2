import { describe, expect, it } from "vitest";
import { buildReport, formatTable, type K6Summary, renderHtml } from "./report.ts";

const trend = (p95: number, count: number) => ({
  type: "trend",
  contains: "time",
  values: { "p(50)": p95 / 2, "p(90)": p95 * 0.9, "p(95)": p95, "p(99)": p95 * 1.5, max: p95 * 2, count },
  thresholds: { "max>=0": { ok: true } },
});
const rate = (value: number) => ({
  type: "rate",
  values: { rate: value },
  thresholds: { "rate>=0": { ok: true } },
});

function summary(): K6Summary {
  return {
    profile: "full",
    promise: { PatientFetch: 400, DoctorFetch: 250 },
    tight: { PatientFetch: 25, DoctorFetch: 15 },
    targets: {
      "http_req_duration{scenario:PatientFetch,operation:PatientFetch}": ["p(95)<400", "p(95)<25"],
    },
    plan: [
      {
        name: "PatientFetch",
        kind: "gateway",
        operation: "PatientFetch",
        rate: 200,
        startTime: 0,
        seconds: 10,
      },
      {
        name: "LegacyPatientFetch",
        kind: "legacy",
        operation: "LegacyPatientFetch",
        rate: 20,
        startTime: 13,
        seconds: 10,
      },
      {
        name: "RampPatientFetch",
        kind: "ramp",
        operation: "PatientFetch",
        stages: [100, 200, 400],
        hold: 10,
        up: 2,
        startTime: 26,
        seconds: 36,
      },
    ],
    metrics: {
      "fetch_duration{scenario:PatientFetch}": trend(20, 2_000),
      "fetch_errors{scenario:PatientFetch}": rate(0),
      "http_req_duration{scenario:PatientFetch,operation:PatientFetch}": {
        ...trend(19, 2_000),
        thresholds: { "p(95)<400": { ok: true }, "p(95)<25": { ok: true } },
      },
      "fetch_duration{scenario:LegacyPatientFetch}": trend(180, 200),
      "fetch_errors{scenario:LegacyPatientFetch}": rate(0),
      "fetch_duration{scenario:RampPatientFetch}": trend(300, 6_000),
      "fetch_duration{scenario:RampPatientFetch,stage:100}": trend(12, 1_000),
      "fetch_duration{scenario:RampPatientFetch,stage:200}": trend(30, 2_000),
      "fetch_duration{scenario:RampPatientFetch,stage:400}": trend(900, 2_500),
      "fetch_errors{scenario:RampPatientFetch,stage:400}": rate(0.2),
    },
  };
}

describe("buildReport", () => {
  it("default: a row per scenario with its rate over its own duration and its percentiles", () => {
    const report = buildReport(summary());
    expect(report.rows.map((row) => [row.scenario, row.rate, row.p95])).toEqual([
      ["PatientFetch", 200, 20],
      ["LegacyPatientFetch", 20, 180],
      ["RampPatientFetch", 6_000 / 36, 300],
    ]);
    expect(report.thresholds).toHaveLength(2);
    expect(report.passed).toBe(true);
  });

  it("behavior: the ramp's highest rate is the last stage before one misses the target", () => {
    const [ramp] = buildReport(summary()).ramps;
    expect(ramp?.highestUnderPromise).toBe(200);
    expect(ramp?.highestUnderTight).toBe(100);
  });

  it("behavior: a failed target threshold fails the report, and the table and page say so", () => {
    const s = summary();
    s.metrics["http_req_duration{scenario:PatientFetch,operation:PatientFetch}"]!.thresholds = {
      "p(95)<400": { ok: true },
      "p(95)<25": { ok: false },
    };
    const report = buildReport(s);
    expect(report.passed).toBe(false);
    expect(formatTable(report)).toContain("FAIL p(95)<25");
    const html = renderHtml(report, { title: "t", facts: [["scale", "0.1"]] });
    expect(html).toContain("<svg");
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain("6x lower p95, 10x the throughput");
  });
});
