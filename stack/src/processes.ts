// Child processes of the stack: each runs detached in its own process group (so a Ctrl-C in the terminal
// reaches only our CLI, which then stops them in order) with stdout and stderr going to a log file.
// An exit we did not ask for is reported, never waited on; stop is SIGTERM (or the server's own
// graceful signal) to the whole group, then SIGKILL after a timeout.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  MissingToolError,
  ServerExitedError,
  StartAbortedError,
  StartupTimeoutError,
  ToolFailedError,
} from "./errors.ts";

export interface SpawnSpec {
  /** Short name used in logs and errors: "anvil", "postgres", "kafka", "maven", ... */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Run as another user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** The signal that asks this server for a graceful stop. */
  stopSignal?: NodeJS.Signals;
  /** What to tell the user when `command` is not installed. */
  missingHint?: string;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** What we are waiting for, for the timeout message ("eth_blockNumber to answer"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private stopping = false;
  private readonly crashListeners = new Set<(error: ServerExitedError) => void>();

  private constructor(
    child: ChildProcess,
    private readonly spec: SpawnSpec,
  ) {
    this.name = spec.name;
    this.pid = child.pid!;
    this.logFile = spec.logFile;
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        if (!this.stopping) {
          const error = this.exitError()!;
          for (const listener of this.crashListeners) listener(error);
        }
        resolve(this.exitInfo);
      });
    });
  }

  /** Starts the process; rejects when it cannot be started at all (e.g. the program is not installed). */
  static async spawn(spec: SpawnSpec): Promise<ManagedProcess> {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const log = openSync(spec.logFile, "a");
    try {
      const child = spawn(spec.command, spec.args, {
        cwd: spec.cwd,
        env: spec.env ?? process.env,
        detached: true,
        stdio: ["ignore", log, log],
        uid: spec.uid,
        gid: spec.gid,
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", resolve);
        child.once("error", reject);
      });
      return new ManagedProcess(child, spec);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new MissingToolError(spec.missingHint ?? `${spec.command} is not installed`, { cause: error });
      }
      throw error;
    } finally {
      closeSync(log);
    }
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** The exit as an error (undefined while running). */
  exitError(): ServerExitedError | undefined {
    const exit = this.exitInfo;
    return exit && new ServerExitedError(this.name, exit.code, exit.signal, this.tail(), this.logFile);
  }

  /** Calls `listener` if the process exits without `stop()` having been called. */
  onCrash(listener: (error: ServerExitedError) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** The last lines of the process's log file. */
  tail(lines = 40): string {
    return readTail(this.logFile, lines);
  }

  /** Polls `check` until it returns true; fails fast if the process exits, or after `timeoutMs`. */
  async waitUntil(check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
    const deadline = Date.now() + options.timeoutMs;
    const interval = options.intervalMs ?? 100;
    for (;;) {
      this.throwIfGone(options.signal);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new StartupTimeoutError(
          this.name,
          `${this.name} did not become ready within ${options.timeoutMs / 1000} s (waiting for ${options.what}); log: ${this.logFile}`,
          this.tail(),
        );
      }
      // A check that hangs must not outlive the deadline.
      if (await withTimeout(check(), Math.min(remaining, 5_000)).catch(() => false)) return;
      this.throwIfGone(options.signal);
      await Promise.race([sleep(interval), this.exited]);
    }
  }

  /** Graceful stop of the whole process group, SIGKILL after `timeoutMs`. Never throws. */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    if (this.running) {
      signalGroup(this.pid, this.spec.stopSignal ?? "SIGTERM");
      const exitedInTime = await withTimeout(this.exited, timeoutMs).then(
        () => true,
        () => false,
      );
      if (!exitedInTime) {
        signalGroup(this.pid, "SIGKILL");
        await withTimeout(this.exited, 5_000).catch(() => undefined);
      }
    }
    // The leader is gone; anything it left behind in its group goes too.
    signalGroup(this.pid, "SIGKILL");
  }

  private throwIfGone(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new StartAbortedError(`start of ${this.name} was cancelled`);
    const exited = this.exitError();
    if (exited) throw exited;
  }
}

/** Runs a one-off tool (Maven, a formatter) to completion; its output goes to `logFile`. */
export async function runTool(
  spec: SpawnSpec,
  options: { timeoutMs: number; retryable: boolean; register?: (process: ManagedProcess) => void },
): Promise<void> {
  const tool = await ManagedProcess.spawn(spec);
  options.register?.(tool);
  const exit = await withTimeout(tool.exited, options.timeoutMs).catch(async () => {
    await tool.stop(1_000);
    throw new ToolFailedError(
      `${spec.name} did not finish within ${options.timeoutMs / 1000} s; log: ${spec.logFile}`,
      tool.tail(),
      true,
    );
  });
  if (exit.code !== 0) {
    const how = exit.signal ? `was killed by ${exit.signal}` : `failed with exit code ${exit.code}`;
    throw new ToolFailedError(`${spec.name} ${how}; log: ${spec.logFile}`, tool.tail(), options.retryable);
  }
}

/** True while a process with this pid runs (a zombie that exited but was not reaped yet does not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/<pid>/stat: "pid (command) state ..."; Z is a zombie. No /proc (macOS): trust kill(0).
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").at(-1)?.[0] !== "Z";
  } catch {
    return true;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The last `lines` lines of a file, reading at most its last 64 KiB. */
export function readTail(file: string, lines: number): string {
  try {
    const size = statSync(file).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    const fd = openSync(file, "r");
    try {
      readSync(fd, buffer, 0, length, size - length);
    } finally {
      closeSync(fd);
    }
    return buffer
      .toString("utf8")
      .split("\n")
      .slice(-lines - 1)
      .join("\n");
  } catch {
    return "";
  }
}
