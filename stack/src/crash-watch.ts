// Watches the stack's long-running servers: the first one to exit unasked resolves `crashed`, and every
// such exit goes to the listeners (also those added later, which hear of an earlier crash at once).
import type { ServerExitedError } from "./errors.ts";
import type { ManagedProcess } from "./processes.ts";

export interface CrashWatch {
  crashed: Promise<ServerExitedError>;
  onCrash(listener: (error: ServerExitedError) => void): void;
}

export function watchCrashes(servers: ManagedProcess[]): CrashWatch {
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
    if (!server.running) report(server.exitError()!);
  }
  return {
    crashed,
    onCrash: (listener) => {
      listeners.add(listener);
      for (const error of seen) listener(error);
    },
  };
}
