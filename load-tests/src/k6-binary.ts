// k6, built from its Go module into the project's cache on first use and reused afterwards:
//   GOBIN=<repo>/.cache/k6/<version> go install go.k6.io/k6@<version>
// Run directly (`tsx load-tests/src/k6-binary.ts`) it builds (if needed) and prints the binary's path.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NonRetryableError } from "@carechain/common";
import { cacheDir, say as defaultSay, type Say } from "./paths.ts";

/** The pinned k6 release (latest stable on the Go module proxy when this was written). */
export const K6_VERSION = "v1.8.1";

const run = promisify(execFile);

export type EnsureK6Options = {
  version?: string;
  /** The cache root (default <repo>/.cache); the binary goes to <cache>/k6/<version>/k6. */
  cacheDir?: string;
  /** Use this binary instead (K6_BINARY); it is only checked, never built. */
  binary?: string;
  say?: Say;
};

export type K6Binary = { path: string; version: string; built: boolean; buildSeconds?: number };

/** The k6 binary: the given one, the cached build, or a fresh build (several minutes on 2 cores). */
export async function ensureK6(options: EnsureK6Options = {}): Promise<K6Binary> {
  const say = options.say ?? defaultSay;
  const version = options.version ?? K6_VERSION;
  if (options.binary) {
    const reported = await k6Version(options.binary).catch((error: unknown) => {
      throw new NonRetryableError(`K6_BINARY=${options.binary} does not run: ${String(error)}`);
    });
    say(`k6: using ${options.binary} (${reported})`);
    return { path: options.binary, version: reported, built: false };
  }
  const dir = join(options.cacheDir ?? cacheDir, "k6", version);
  const path = join(dir, process.platform === "win32" ? "k6.exe" : "k6");
  if (existsSync(path)) {
    const reported = await k6Version(path).catch(() => undefined);
    if (reported?.includes(version)) {
      say(`k6: ${version} cached at ${path}`);
      return { path, version, built: false };
    }
    say(`k6: the cached binary at ${path} does not run as ${version}; rebuilding`);
  }

  const go = await run("go", ["version"]).catch(() => undefined);
  if (!go) {
    throw new NonRetryableError(
      `k6 is built from source and needs Go (1.25 or newer) on PATH: install it from https://go.dev/dl/ ` +
        `(or set K6_BINARY to a k6 ${version} binary).`,
    );
  }
  // Build into a temporary folder and move the binary in place once it is complete, so that a concurrent
  // run (the smoke test and `npm run load:test`) never sees a half-written file.
  const staging = `${dir}.build-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  say(
    `k6: building ${version} from go.k6.io/k6 with ${go.stdout.trim()} into ${dir} (first use only; a few minutes)`,
  );
  const started = Date.now();
  const ticker = setInterval(() => say(`k6: still building (${elapsed(started)})`), 30_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn("go", ["install", `go.k6.io/k6@${version}`], {
        env: { ...process.env, GOBIN: staging, CGO_ENABLED: "0" },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-4_000);
      });
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0
          ? resolve()
          : reject(
              new NonRetryableError(`go install go.k6.io/k6@${version} failed (exit ${code})`, {
                details: stderr,
              }),
            ),
      );
    });
    mkdirSync(dir, { recursive: true });
    renameSync(join(staging, "k6"), path);
  } finally {
    clearInterval(ticker);
    rmSync(staging, { recursive: true, force: true });
  }
  const buildSeconds = (Date.now() - started) / 1000;
  say(`k6: built ${version} in ${buildSeconds.toFixed(0)} s (${await k6Version(path)})`);
  return { path, version, built: true, buildSeconds };
}

async function k6Version(binary: string): Promise<string> {
  const { stdout } = await run(binary, ["version"], { timeout: 30_000 });
  return stdout.trim().split("\n")[0] ?? "";
}

function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(0)} s`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const k6 = await ensureK6({ binary: process.env.K6_BINARY || undefined });
    process.stdout.write(`${k6.path}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
