// Each run's data folder records who owns it and which server pids it started (run.json). If the owner
// died without stopping them (kill -9 of the CLI or of vitest), the next start kills what it left behind
// before reusing or deleting the folder: servers run detached, so nothing else would.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join, sep } from "node:path";
import { isAlive } from "./processes.ts";

export interface RunState {
  ownerPid: number;
  servers: { name: string; pid: number }[];
}

export function writeRunState(dataDir: string, state: RunState): void {
  writeFileSync(join(dataDir, "run.json"), `${JSON.stringify(state, null, 2)}\n`);
}

export function readRunState(dataDir: string): RunState | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, "run.json"), "utf8")) as RunState;
  } catch {
    return undefined;
  }
}

/**
 * True when nobody owns the folder any more. A folder without run.json (yet) belongs to the pid in its
 * name ("<anything>-<pid>-<suffix>", see runFolderName) while that process lives.
 */
export function isStale(dataDir: string): boolean {
  const state = readRunState(dataDir);
  if (state) return !isAlive(state.ownerPid);
  const namedPid = Number(/-(\d+)-[^-]*$/.exec(dataDir)?.[1]);
  return !(namedPid > 0 && isAlive(namedPid));
}

/** A unique folder name that tells which process made it. */
export function runFolderName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/**
 * Kills the servers of a run whose owner is gone. A pid only counts if that process still works inside
 * the run's folder (checked through /proc), so a recycled pid of an unrelated process is left alone.
 * anvil is asked first (SIGTERM) and given `anvilGraceMs` to dump its chain to its state file, else the
 * blocks since its last dump would be lost; the rest is killed at once. Returns the pids it killed.
 */
export function reapStaleRun(dataDir: string, anvilGraceMs = 10_000): number[] {
  const state = readRunState(dataDir);
  if (!state || isAlive(state.ownerPid)) return [];
  const servers = state.servers.filter(({ pid }) => worksInside(pid, dataDir));
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
      return true;
    } catch {
      return false; // already gone
    }
  };
  const graceful = servers.filter(({ name, pid }) => name === "anvil" && signal(pid, "SIGTERM"));
  const killed = servers.filter(({ name, pid }) => name !== "anvil" && signal(pid, "SIGKILL"));
  // Synchronous on purpose: every caller reaps before it starts anything, and expects a plain list.
  const deadline = Date.now() + anvilGraceMs;
  let left = graceful.filter(({ pid }) => worksInside(pid, dataDir));
  while (left.length > 0 && Date.now() < deadline) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    left = left.filter(({ pid }) => worksInside(pid, dataDir));
  }
  for (const { pid } of left) signal(pid, "SIGKILL");
  return [...graceful, ...killed].map(({ pid }) => pid);
}

/**
 * Reaps and deletes every stale folder directly inside `parent` (the vitest runs' folders). A folder may
 * hold a whole cache with its own runs (the CLI tests' `stack up`), so run.json is looked for below too.
 */
export function sweepStaleRuns(parent: string): void {
  if (!existsSync(parent)) return;
  for (const entry of readdirSync(parent)) {
    const dir = join(parent, entry);
    if (!isStale(dir)) continue;
    for (const runDir of runFolders(dir, 3)) reapStaleRun(runDir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function runFolders(dir: string, depth: number): string[] {
  if (existsSync(join(dir, "run.json"))) return [dir];
  if (depth === 0) return [];
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.isSymbolicLink())
      .flatMap((entry) => runFolders(join(dir, entry.name), depth - 1));
  } catch {
    return [];
  }
}

function worksInside(pid: number, dataDir: string): boolean {
  try {
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    return cwd === dataDir || cwd.startsWith(dataDir + sep);
  } catch {
    return false;
  }
}

/**
 * Waits until the processes are gone entirely, zombies included (a server that checks its lock file with
 * kill(pid, 0), as PostgreSQL does, still sees a killed but unreaped one). Returns the pids still there.
 */
export async function waitUntilGone(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const exists = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  };
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(exists);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = left.filter(exists);
  }
  return left;
}
