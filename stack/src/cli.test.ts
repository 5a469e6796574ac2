// The CLI as a user runs it: a child process, signals, pid and endpoints files. Every wait is bounded.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, test } from "vitest";
import { isListening } from "./ports.ts";
import { isAlive } from "./processes.ts";
import { reapStaleRun, runFolderName } from "./run-state.ts";
import { type EndpointsFile, endpointsFile, pidFile, upDataDir } from "./state-files.ts";
import { getStack } from "./testing.ts";

const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const children: ChildProcess[] = [];
const folders: string[] = [];

// Even a failed test leaves nothing running: `up` gets a graceful stop first (a SIGKILLed `up` would
// orphan its detached servers), then whatever is left in its run folder is reaped.
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill("SIGTERM");
    await exitOf(child, 20_000).catch(() => child.kill("SIGKILL"));
  }
  for (const folder of folders.splice(0)) {
    reapStaleRun(upDataDir(folder));
    rmSync(folder, { recursive: true, force: true });
  }
});

/** A cache folder of its own (beside the test run's folder), sharing the already fetched Kafka jars. */
function ownCacheDir(): string {
  const runsDir = dirname(getStack().dataDir);
  const cacheDir = join(runsDir, runFolderName("cli"));
  mkdirSync(cacheDir, { recursive: true });
  folders.push(cacheDir);
  const sharedKafka = join(dirname(dirname(runsDir)), "kafka");
  if (existsSync(sharedKafka)) symlinkSync(sharedKafka, join(cacheDir, "kafka"));
  return cacheDir;
}

function cliEnv(cacheDir: string, overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CARECHAIN_CACHE_DIR: cacheDir, ...overrides };
  for (const name of [
    "RPC_URL",
    "DATABASE_URL",
    "KAFKA_BROKERS",
    "ANVIL_PORT",
    "POSTGRES_PORT",
    "KAFKA_PORT",
  ]) {
    if (!(name in overrides)) delete env[name];
  }
  return env;
}

/** Runs a CLI command to completion (asynchronously: a blocked event loop could not reap `up`'s exit). */
function runCli(args: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", cli, ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    const timer = setTimeout(
      () => reject(new Error(`stack ${args.join(" ")} still running after 60 s`)),
      60_000,
    );
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Starts `stack up` and resolves once it printed its ready line; rejects if it exits or takes too long. */
async function startUp(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "up"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within 90 s:\n${output}`)), 90_000);
    child.stdout?.on("data", () => {
      if (/stack ready in/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stack up exited with ${code} before it was ready:\n${output}`));
    });
  });
  return { child, output: () => output };
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running after ${timeoutMs} ms`)), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

function portOf(address: string): number {
  return Number(/:(\d+)(?:\/|$)/.exec(address)?.[1]);
}

describe("cli", () => {
  test("behavior: SIGINT to `up` stops every server it started: no pid alive, no port listening, no orphans", async () => {
    const cacheDir = ownCacheDir();
    const env = cliEnv(cacheDir);
    const { child, output } = await startUp(env);
    const file = JSON.parse(readFileSync(endpointsFile(cacheDir), "utf8")) as EndpointsFile;
    expect(file.pid).toBeGreaterThan(0);
    expect(file.servers.map((server) => server.name)).toEqual(["anvil", "postgres", "kafka"]);
    const pids = file.servers.map((server) => server.pid!);
    const ports = file.servers.map((server) => portOf(server.address));
    expect(pids.every((pid) => pid > 0 && isAlive(pid))).toBe(true);
    for (const server of file.servers) expect(output()).toContain(`pid ${server.pid}`);

    const status = await runCli(["status"], env);
    expect(status.status, status.stdout + status.stderr).toBe(0);
    expect(status.stdout).toMatch(/anvil +ok +chain 31337/);
    expect(status.stdout).toMatch(/postgres +ok/);
    expect(status.stdout).toMatch(/kafka +ok/);

    child.kill("SIGINT");
    expect(await exitOf(child, 30_000)).toBe(0);
    for (const pid of pids)
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    for (const port of ports) expect(await isListening(port), `port ${port}`).toBe(false);
    expect(existsSync(endpointsFile(cacheDir))).toBe(false);
    expect(existsSync(pidFile(cacheDir))).toBe(false);
    expect((await runCli(["status"], env)).status).toBe(1);
  });

  test("behavior: `down` stops a running `up` through its pid file; a second `up` is refused meanwhile", async () => {
    // Only anvil is started here; PostgreSQL and Kafka are borrowed from the test run's stack.
    const stack = getStack();
    const cacheDir = ownCacheDir();
    const env = cliEnv(cacheDir, {
      DATABASE_URL: stack.databaseUrl,
      KAFKA_BROKERS: stack.kafkaBrokers.join(","),
    });
    const { child } = await startUp(env);
    const file = JSON.parse(readFileSync(endpointsFile(cacheDir), "utf8")) as EndpointsFile;
    const anvilPid = file.servers.find((server) => server.name === "anvil")?.pid;
    expect(anvilPid).toBeGreaterThan(0);

    const second = await runCli(["up"], env);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`the stack is already running (pid ${file.pid})`);

    const down = await runCli(["down"], env);
    expect(down.status, down.stdout + down.stderr).toBe(0);
    expect(down.stdout).toContain(`stopped the stack (pid ${file.pid})`);
    expect(await exitOf(child, 10_000)).toBe(0);
    expect(isAlive(anvilPid!)).toBe(false);
    expect((await runCli(["down"], env)).stdout).toContain("the stack is not running");
  });

  test("error: a bad environment is refused before anything starts, saying what to set", async () => {
    const result = await runCli(["up"], cliEnv(ownCacheDir(), { ANVIL_PORT: "not-a-port" }));
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("ANVIL_PORT must be a port number");
  });
});
