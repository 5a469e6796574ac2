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

// Supervision: a long-running process that is started again when it exits unasked, after a delay that
// doubles with every crash in a row (0.5 s, 1 s, 2 s, ... up to 30 s; a process that ran a while starts the
// series over), until it has crashed too often within a window: then it gives up, loudly (onCrash), and
// whoever owns it decides (npm start stops everything, as it did on any crash before).

export interface RestartPolicy {
  /** Delay before the first restart; doubles with every further crash in a row. */
  initialDelayMs: number;
  /** The delay stops doubling here. */
  maxDelayMs: number;
  /** A process that ran this long before it crashed starts the series over (`initialDelayMs` again). */
  resetAfterMs: number;
  /** Give up at the `maxCrashes`-th crash within `windowMs` (failed restart attempts count too). */
  maxCrashes: number;
  windowMs: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  resetAfterMs: 60_000,
  maxCrashes: 5,
  windowMs: 120_000,
};

export interface SupervisedStatus {
  name: string;
  /** running; restarting (waiting out the delay or starting again); gave-up; stopped (asked to). */
  state: "running" | "restarting" | "gave-up" | "stopped";
  /** The current process (undefined while restarting). */
  pid: number | undefined;
  /** Restarts that brought it back so far. */
  restarts: number;
  /** While restarting: which attempt of the current series (1 after a first crash). */
  attempt: number | undefined;
  /** While waiting out the delay: when the next attempt begins (epoch ms). */
  nextAttemptAt: number | undefined;
}

export type SupervisionEvent =
  | { kind: "unresponsive"; name: string; pid: number; failures: number }
  | { kind: "crashed"; name: string; error: Error; attempt: number; delayMs: number }
  | { kind: "restarted"; name: string; pid: number; restarts: number; downMs: number }
  | { kind: "gave-up"; name: string; error: RestartsExhaustedError };

/** A supervised process crashed `crashes` times within the policy's window: it is not restarted again. */
export class RestartsExhaustedError extends ServerExitedError {
  constructor(
    last: ServerExitedError,
    readonly crashes: number,
    windowMs: number,
    lastFailure?: Error,
  ) {
    super(last.server, last.exitCode, last.signal, last.logTail, last.logFile);
    const failure =
      lastFailure && lastFailure !== last ? `\nlast restart attempt: ${lastFailure.message}` : "";
    this.message = `${last.server} crashed ${crashes} times within ${windowMs / 1000} s: gave up restarting it${failure}\n${last.message}`;
  }
}

/** Starts the process and waits until it is ready; `register` gets it as soon as it is spawned. */
export type StartProcess = (register: (process: ManagedProcess) => void) => Promise<ManagedProcess>;

export interface SuperviseOptions {
  policy?: Partial<RestartPolicy>;
  /** How long a stop waits for a graceful exit (ManagedProcess.stop). */
  stopTimeoutMs?: number;
  onEvent?: (event: SupervisionEvent) => void;
  /**
   * Supervised.start: a first start whose process exits (a server it needs not quite ready yet) is retried
   * like a crash; one that times out or cannot spawn is thrown at once.
   */
  retryFirstStart?: boolean;
  /** Supervised.start: cancels the first start (which then rejects with StartAbortedError). */
  signal?: AbortSignal;
  /**
   * A running process that stops answering `probe` (false, a rejection, or no answer within `timeoutMs`)
   * `failures` times in a row is hung (SIGSTOP, a deadlock): it is killed, and restarted like a crash.
   */
  liveness?: { probe: () => Promise<boolean>; intervalMs: number; timeoutMs: number; failures: number };
}

export class Supervised {
  readonly policy: RestartPolicy;
  private current: ManagedProcess | undefined;
  /** A process spawned by an attempt still in progress (stopped with it). */
  private starting: ManagedProcess | undefined;
  private upSince = Date.now();
  private state: SupervisedStatus["state"] = "running";
  private restarts = 0;
  private inRow = 0;
  private crashTimes: number[] = [];
  private nextAttemptAt: number | undefined;
  private gaveUp: RestartsExhaustedError | undefined;
  private readonly wake = new AbortController();
  private readonly listeners = new Set<(error: ServerExitedError) => void>();
  private readonly eventListeners = new Set<(event: SupervisionEvent) => void>();

  private constructor(
    readonly name: string,
    private readonly start: StartProcess,
    private readonly options: SuperviseOptions,
  ) {
    this.policy = { ...defaultRestartPolicy, ...options.policy };
    if (options.onEvent) this.eventListeners.add(options.onEvent);
  }

  /**
   * Starts it the first time; a failure there is thrown (and what was spawned stopped), not retried
   * unless `retryFirstStart` and the process exited.
   */
  static async start(name: string, start: StartProcess, options: SuperviseOptions = {}): Promise<Supervised> {
    const supervised = new Supervised(name, start, options);
    const onAbort = () => void supervised.stop();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (options.signal?.aborted) throw new StartAbortedError(`start of ${name} was cancelled`);
      supervised.adopt(await supervised.attempt());
    } catch (error) {
      const cancelled = () => supervised.state === "stopped";
      if (cancelled()) throw new StartAbortedError(`start of ${name} was cancelled`, { cause: error });
      if (!(options.retryFirstStart && error instanceof ServerExitedError)) throw error;
      await supervised.recover(error);
      if (supervised.gaveUp) throw supervised.gaveUp;
      if (cancelled()) throw new StartAbortedError(`start of ${name} was cancelled`);
    } finally {
      // Once started, its owner stops it (in the order it chooses).
      options.signal?.removeEventListener("abort", onAbort);
    }
    return supervised;
  }

  /** Supervises a process started elsewhere; `start` starts it again after a crash. */
  static adopt(process: ManagedProcess, start: StartProcess, options: SuperviseOptions = {}): Supervised {
    const supervised = new Supervised(process.name, start, options);
    supervised.adopt(process);
    return supervised;
  }

  /** The current process; undefined while restarting. */
  get process(): ManagedProcess | undefined {
    return this.current?.running ? this.current : undefined;
  }

  /** False once it gave up or was stopped. */
  get running(): boolean {
    return this.state === "running" || this.state === "restarting";
  }

  status(): SupervisedStatus {
    const restarting = this.state === "restarting";
    return {
      name: this.name,
      state: this.state,
      pid: this.process?.pid,
      restarts: this.restarts,
      attempt: restarting ? this.inRow : undefined,
      nextAttemptAt: restarting ? this.nextAttemptAt : undefined,
    };
  }

  /** The error it gave up with (undefined until then). */
  exitError(): RestartsExhaustedError | undefined {
    return this.gaveUp;
  }

  /** Calls `listener` when it gives up: a crash supervision could not heal. */
  onCrash(listener: (error: ServerExitedError) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onEvent(listener: (event: SupervisionEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Stops the process (and any restart in progress); never throws. */
  async stop(timeoutMs = this.options.stopTimeoutMs ?? 15_000): Promise<void> {
    if (this.state !== "gave-up") this.state = "stopped";
    this.wake.abort();
    await Promise.allSettled([this.current?.stop(timeoutMs), this.starting?.stop(timeoutMs)]);
  }

  private adopt(process: ManagedProcess): void {
    this.current = process;
    this.upSince = Date.now();
    // It may have died between becoming ready and now, before anyone listened.
    if (!process.running) {
      void this.recover(process.exitError()!);
      return;
    }
    process.onCrash((error) => void this.recover(error));
    if (this.options.liveness) void this.watchLiveness(process, this.options.liveness);
  }

  /** Probes the adopted process until it exits or is replaced; kills it when it stops answering. */
  private async watchLiveness(
    process: ManagedProcess,
    liveness: NonNullable<SuperviseOptions["liveness"]>,
  ): Promise<void> {
    const current = () => this.current === process && process.running && this.state === "running";
    let failures = 0;
    while (current()) {
      await sleep(liveness.intervalMs, undefined, { signal: this.wake.signal }).catch(() => undefined);
      if (!current()) return;
      const answered = await Promise.race([
        liveness.probe().catch(() => false),
        sleep(liveness.timeoutMs).then(() => false),
      ]);
      failures = answered ? 0 : failures + 1;
      if (failures < liveness.failures || !current()) continue;
      this.emit({ kind: "unresponsive", name: this.name, pid: process.pid, failures });
      // SIGKILL to its group, unasked: the process's own crash handling restarts it.
      try {
        globalThis.process.kill(-process.pid, "SIGKILL");
      } catch {
        // already gone
      }
      return;
    }
  }

  /** One start: spawned, waited for; what it spawned is stopped when it fails. */
  private async attempt(): Promise<ManagedProcess> {
    try {
      const process = await this.start((spawned) => {
        this.starting = spawned;
      });
      if (this.state === "stopped") throw new StartAbortedError(`restart of ${this.name} was cancelled`);
      return process;
    } catch (error) {
      await this.starting?.stop(0);
      throw error;
    } finally {
      this.starting = undefined;
    }
  }

  private async recover(exit: ServerExitedError): Promise<void> {
    if (!this.running) return;
    const downSince = Date.now();
    if (downSince - this.upSince >= this.policy.resetAfterMs) this.inRow = 0;
    // Whatever the dead process left in its group (PostgreSQL's backends) must not hold its port or data.
    if (this.current) await killGroup(this.current);
    let failure: Error = exit;
    for (;;) {
      if (!this.running) return;
      const now = Date.now();
      this.crashTimes = [...this.crashTimes.filter((t) => now - t < this.policy.windowMs), now];
      if (this.crashTimes.length >= this.policy.maxCrashes) {
        this.state = "gave-up";
        this.gaveUp = new RestartsExhaustedError(exit, this.crashTimes.length, this.policy.windowMs, failure);
        this.emit({ kind: "gave-up", name: this.name, error: this.gaveUp });
        for (const listener of this.listeners) listener(this.gaveUp);
        return;
      }
      this.inRow += 1;
      const delayMs = Math.min(this.policy.initialDelayMs * 2 ** (this.inRow - 1), this.policy.maxDelayMs);
      this.state = "restarting";
      this.nextAttemptAt = now + delayMs;
      this.emit({ kind: "crashed", name: this.name, error: failure, attempt: this.inRow, delayMs });
      await sleep(delayMs, undefined, { signal: this.wake.signal }).catch(() => undefined);
      this.nextAttemptAt = undefined;
      if (!this.running) return;
      try {
        const process = await this.attempt();
        this.restarts += 1;
        this.state = "running";
        this.adopt(process);
        this.emit({
          kind: "restarted",
          name: this.name,
          pid: process.pid,
          restarts: this.restarts,
          downMs: Date.now() - downSince,
        });
        return;
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
    }
  }

  private emit(event: SupervisionEvent): void {
    for (const listener of this.eventListeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is not the supervised process's
      }
    }
  }
}

/** SIGKILL to what is left of an exited process's group, then a short wait until the group is gone. */
async function killGroup(process: ManagedProcess): Promise<void> {
  await process.stop(0);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      globalThis.process.kill(-process.pid, 0);
    } catch {
      return; // ESRCH: nothing left
    }
    await sleep(50);
  }
}
