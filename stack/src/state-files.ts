// The files through which a running `stack up` is found by other processes: <cache>/stack/up.pid and
// <cache>/stack/endpoints.json (written once the stack is ready, removed when it stops).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackStateDir } from "./config.ts";
import { isAlive } from "./processes.ts";
import type { ServerInfo, StackEndpoints } from "./stack.ts";

export interface EndpointsFile extends StackEndpoints {
  /** The pid of the `stack up` process that owns these servers. */
  pid: number;
  servers: ServerInfo[];
}

export const endpointsFile = (cacheDir: string) => join(stackStateDir(cacheDir), "endpoints.json");
export const pidFile = (cacheDir: string) => join(stackStateDir(cacheDir), "up.pid");
/** The data folder of `stack up` (fresh on every start: the chain starts over, so must everything else). */
export const upDataDir = (cacheDir: string) => join(stackStateDir(cacheDir), "run");

/** The pid of a live `stack up`, if there is one. */
export function runningUpPid(cacheDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(cacheDir), "utf8").trim());
    return pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The endpoints of the running `stack up`, or undefined when none runs. */
export function readEndpointsFile(cacheDir: string): EndpointsFile | undefined {
  try {
    const file = JSON.parse(readFileSync(endpointsFile(cacheDir), "utf8")) as EndpointsFile;
    return isAlive(file.pid) ? file : undefined;
  } catch {
    return undefined;
  }
}

export function writePidFile(cacheDir: string): void {
  mkdirSync(stackStateDir(cacheDir), { recursive: true });
  writeFileSync(pidFile(cacheDir), `${process.pid}\n`);
}

export function writeEndpointsFile(cacheDir: string, content: EndpointsFile): void {
  writeFileSync(endpointsFile(cacheDir), `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes both files, but only if they are this process's (a second `up` must not delete the first's). */
export function removeStateFiles(cacheDir: string): void {
  for (const file of [endpointsFile(cacheDir), pidFile(cacheDir)]) {
    try {
      const text = readFileSync(file, "utf8");
      const owner = file.endsWith(".json") ? (JSON.parse(text) as EndpointsFile).pid : Number(text.trim());
      if (owner === process.pid) rmSync(file, { force: true });
    } catch {
      // missing or unreadable: nothing of ours to remove
    }
  }
}
