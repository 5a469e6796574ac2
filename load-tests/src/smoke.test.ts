// The load test's smoke run, part of `npm test` so that the k6 scripts never rot: a tiny population seeded
// through the real pipeline (contracts -> ingest -> Kafka -> projector -> PostgreSQL, started by startSystem)
// on the test stack, the real gateway, and the real k6 binary running every scenario for a few seconds at a low rate with the
// thresholds evaluated. It checks that the scripts run, not how fast (no timing assertions in tests).
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStack } from "@carechain/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureK6, type K6Binary } from "./k6-binary.ts";
import { runK6 } from "./k6-run.ts";
import { say } from "./paths.ts";
import { buildReport } from "./report.ts";
import { type PreparedSystem, prepareSystem } from "./system.ts";
import { prepareViewers, writeK6Data } from "./viewers.ts";

const scenarios = [
  "PatientFetch",
  "DoctorFetch",
  "LegacyPatientFetch",
  "LegacyDoctorFetch",
  "Mixed",
  "MixedWrites",
  "RampPatientFetch",
  "RampDoctorFetch",
];

describe("load smoke", () => {
  const work = mkdtempSync(join(tmpdir(), "carechain-load-smoke-"));
  const salt = randomBytes(4).toString("hex");
  let k6: K6Binary;
  let system: PreparedSystem | undefined;

  beforeAll(async () => {
    // Built once into .cache/k6 (minutes on first use), then reused.
    k6 = await ensureK6({ say });
  }, 900_000);

  afterAll(async () => {
    await system?.stop();
    rmSync(work, { recursive: true, force: true });
  }, 60_000);

  it("default: every scenario runs on the real k6 against the real pipeline, thresholds evaluated", async () => {
    const stack = getStack();
    system = await prepareSystem({
      endpoints: { ...stack, source: "the test stack" },
      cache: work,
      freshDeployment: salt,
      scale: { patients: 6, doctors: 3, grants: 12, records: 24, readings: 60 },
      seed: `smoke-${salt}`,
      mining: "automine", // the test stack's anvil is shared with other test files
      workDir: work,
      catchUpTimeoutMs: 60_000,
      say,
    });
    const data = await prepareViewers({
      gatewayUrl: system.gatewayUrl,
      rpcUrl: stack.rpcUrl,
      deployment: system.deployment,
      population: system.population,
      patients: 4,
      doctors: 2,
      writers: 4,
      say,
    });
    const dataFile = join(work, "k6-data.json");
    writeK6Data(dataFile, data);

    const result = await runK6({
      k6: k6.path,
      dataFile,
      summaryFile: join(work, "summary.json"),
      profile: "smoke",
      output: { logFile: join(work, "k6.log") },
      say,
    });
    const log = () => readFileSync(join(work, "k6.log"), "utf8").slice(-3_000);

    // k6 exits 0, or 99 when a threshold fails (latency on a busy machine is not what this test checks).
    expect([0, 99], log()).toContain(result.exitCode);
    const { metrics, plan } = result.summary;
    expect(plan.map((entry) => entry.name).sort()).toEqual([...scenarios].sort());
    for (const name of scenarios) {
      expect(metrics[`http_reqs{scenario:${name}}`]?.values.count, `requests of ${name}`).toBeGreaterThan(0);
      expect(metrics[`fetch_errors{scenario:${name}}`]?.values.rate, `errors of ${name}`).toBe(0);
    }
    expect(metrics.checks?.values.fails, log()).toBe(0);
    expect(metrics.checks?.values.passes).toBeGreaterThan(0);

    // Every target threshold was evaluated, and the report is built from them.
    const targets = Object.entries(result.summary.targets);
    expect(targets.length).toBeGreaterThanOrEqual(7);
    for (const [metric, expressions] of targets) {
      for (const expression of expressions) {
        expect(typeof metrics[metric]?.thresholds?.[expression]?.ok, `${metric} ${expression}`).toBe(
          "boolean",
        );
      }
    }
    const report = buildReport(result.summary);
    expect(report.rows).toHaveLength(scenarios.length);
    expect(report.ramps.map((ramp) => ramp.stages.length)).toEqual([2, 2]);
  }, 240_000);
});
