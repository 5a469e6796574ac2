// Watches the stack's long-running servers: the first one to exit unasked (or, when supervised, the first
// one supervision gives up on) resolves `crashed`, and every such exit goes to the listeners (also those
// added later, which hear of an earlier crash at once).
import type { ServerExitedError } from "./errors.ts";

export interface CrashWatch {
  crashed: Promise<ServerExitedError>;
  onCrash(listener: (error: ServerExitedError) => void): void;
}

/** A ManagedProcess, or a Supervised one (whose onCrash means: gave up restarting it). */
export interface Watched {
  exitError(): ServerExitedError | undefined;
  onCrash(listener: (error: ServerExitedError) => void): unknown;
}

export function watchCrashes(servers: Watched[]): CrashWatch {
  const listeners = new Set<(error: ServerExitedError) => void>();
  const seen: ServerExitedError[] = [];
  let resolveCrashed: (error: ServerExitedError) => void = () => {};
  const crashed = new Promise<ServerExitedError>((resolve) => {
    resolveCrashed = resolve;
  });
  const report = (error: ServerExitedError) => {
    seen.push(error);
    resolveCrashed(seen[0]!);
    for (const listener of listeners) listener(error);
  };
  for (const server of servers) {
    server.onCrash(report);
    // It may have died between becoming healthy and now, before anyone listened.
    const exited = server.exitError();
    if (exited) report(exited);
  }
  return {
    crashed,
    onCrash: (listener) => {
      listeners.add(listener);
      for (const error of seen) listener(error);
    },
  };
}
