import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BaseError, ConfigError } from "./errors.ts";

/** What an entry point's main receives from runMain. */
export type MainContext = {
  argv: string[];
  env: Record<string, string | undefined>;
  /** Aborted on the first SIGINT / SIGTERM / SIGHUP. */
  signal: AbortSignal;
  /**
   * Registers a stop step, run (last registered first) on the first signal or when main fails; the process
   * then exits with `exitCode` (0 after a signal). Without stop steps, a signal only aborts `signal`.
   */
  onStop(step: (reason: string) => Promise<unknown> | unknown): void;
};

export type RunMainOptions = {
  /** `import.meta.url` of the entry file: main runs only when that file is the one node was started with. */
  entry?: string;
  /** Exit code after a signal (default 0). */
  signalExitCode?: number;
};

/** True when `entryUrl` (an `import.meta.url`) is the file node was started with. */
export function isEntryPoint(entryUrl: string): boolean {
  const started = process.argv[1];
  if (!started) return false;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  return real(fileURLToPath(entryUrl)) === real(started);
}

/**
 * Errors of our own: common's BaseError, and the classes of the two packages upstream of common (the stack's
 * and the contracts client's), which carry `retryable` the same way.
 */
function isOurs(error: unknown): error is Error & { retryable: boolean } {
  return (
    error instanceof BaseError ||
    (error instanceof Error && typeof (error as { retryable?: unknown }).retryable === "boolean")
  );
}

/** The exit code of a failure: 2 for configuration (ours or the stack's ConfigError), 1 otherwise. */
export function exitCodeOf(error: unknown): number {
  return error instanceof ConfigError || (isOurs(error) && error.name === "ConfigError") ? 2 : 1;
}

/** A failure as the operator should read it: our errors by message (they say what to do), others with a stack. */
export function describeFailure(error: unknown): string {
  if (isOurs(error)) return error.message;
  if (error instanceof Error) return error.stack ?? error.message;
  return String(error);
}

/**
 * Runs a CLI or service entry point, the one way every process of CareChain starts and stops:
 * - main's returned number is the exit code; `undefined` keeps the process running (a server) until a signal;
 * - a thrown error is printed (configuration errors without a stack) after the stop steps ran, and exits
 *   2 (ConfigError) or 1;
 * - the first SIGINT / SIGTERM / SIGHUP aborts `ctx.signal` and runs the stop steps, then exits; a second
 *   one more than a second later exits at once with 130 (the first Ctrl-C can arrive twice: from the
 *   terminal and relayed by tsx).
 */
export function runMain(
  // biome-ignore lint/suspicious/noConfusingVoidType: a server's main returns nothing and keeps running
  main: (ctx: MainContext) => Promise<number | undefined | void>,
  options: RunMainOptions = {},
): void {
  if (options.entry && !isEntryPoint(options.entry)) return;
  const controller = new AbortController();
  const steps: ((reason: string) => Promise<unknown> | unknown)[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      for (const step of [...steps].reverse()) {
        try {
          await step(reason);
        } catch (error) {
          process.stderr.write(`stopping (${reason}): ${describeFailure(error)}\n`);
        }
      }
    })();
    return stopping;
  };
  const exit = (code: number) => {
    process.exitCode = code;
    process.exit(code);
  };

  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstSignalAt > 0) {
      if (Date.now() - firstSignalAt > 1_000) exit(130);
      return;
    }
    firstSignalAt = Date.now();
    controller.abort(new Error(signal));
    if (steps.length > 0) void stop(signal).then(() => exit(options.signalExitCode ?? 0));
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal);

  const ctx: MainContext = {
    argv: process.argv.slice(2),
    env: process.env,
    signal: controller.signal,
    onStop: (step) => void steps.push(step),
  };
  main(ctx).then(
    async (code) => {
      if (typeof code !== "number") return;
      await stop("done");
      exit(code);
    },
    async (error: unknown) => {
      await stop("failure");
      process.stderr.write(`${describeFailure(error)}\n`);
      exit(exitCodeOf(error));
    },
  );
}
