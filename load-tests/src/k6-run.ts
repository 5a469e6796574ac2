// Runs the k6 script with the data file and returns the summary k6 wrote (through handleSummary).
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NonRetryableError } from "@carechain/common";
import { k6ScriptsDir, type Say } from "./paths.ts";
import type { K6Summary } from "./report.ts";

export type K6RunOptions = {
  k6: string;
  dataFile: string;
  summaryFile: string;
  profile: "full" | "smoke";
  /** Extra -e variables: RATE, DURATION, LEGACY_VUS, MIXED_RATE, WRITE_RATE, RAMP_STAGES, SCENARIOS, ... */
  vars?: Record<string, string>;
  /** Where k6's own output goes: "inherit" (the terminal) or a log file. */
  output: "inherit" | { logFile: string };
  say: Say;
};

export type K6RunResult = {
  exitCode: number;
  /** 99: a threshold failed (k6's convention); the summary is complete. */
  thresholdsFailed: boolean;
  summary: K6Summary;
  ms: number;
};

export async function runK6(options: K6RunOptions): Promise<K6RunResult> {
  const vars = {
    ...options.vars,
    DATA_FILE: options.dataFile,
    SUMMARY_FILE: options.summaryFile,
    PROFILE: options.profile,
  };
  const args = [
    "run",
    "--no-color",
    "--no-usage-report",
    ...(options.output === "inherit" ? [] : ["--quiet"]),
    ...Object.entries(vars).flatMap(([name, value]) => ["-e", `${name}=${value}`]),
    join(k6ScriptsDir, "carechain.js"),
  ];
  options.say(
    `k6 run (${options.profile}) ${Object.entries(options.vars ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`.trimEnd(),
  );
  const started = Date.now();
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(options.k6, args, {
      cwd: k6ScriptsDir,
      // k6 reads K6_* variables as options; pass only what it needs.
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", K6_NO_USAGE_REPORT: "true" },
      stdio: options.output === "inherit" ? ["ignore", "inherit", "inherit"] : ["ignore", "pipe", "pipe"],
    });
    let log: ReturnType<typeof createWriteStream> | undefined;
    if (options.output !== "inherit") {
      log = createWriteStream(options.output.logFile);
      // Two sources, one file: neither may end it (the other may still write), so it ends once both have.
      child.stdout?.pipe(log, { end: false });
      child.stderr?.pipe(log, { end: false });
    }
    child.on("error", reject);
    // "close" comes after both output streams have ended; the log is flushed before the run goes on.
    child.on("close", (code, signal) => {
      const exitCode = code ?? (signal ? 128 : 1);
      if (!log) return resolve(exitCode);
      log.end(() => resolve(exitCode));
    });
  });
  const ms = Date.now() - started;
  if (!existsSync(options.summaryFile)) {
    const where = options.output === "inherit" ? "above" : `in ${options.output.logFile}`;
    throw new NonRetryableError(`k6 exited with ${exitCode} and wrote no summary (see its output ${where})`);
  }
  if (exitCode !== 0 && exitCode !== 99) {
    throw new NonRetryableError(`k6 exited with ${exitCode} (99 would mean failed thresholds)`);
  }
  const summary = JSON.parse(readFileSync(options.summaryFile, "utf8")) as K6Summary;
  return { exitCode, thresholdsFailed: exitCode === 99, summary, ms };
}
