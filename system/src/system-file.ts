// <cache>/system/system.json: written once `npm start` is ready, removed when it stops. It tells the query
// CLI where the gateway is, and a second `npm start` that one is running already.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isAlive } from "@carechain/stack";

export interface SystemFile {
  /** The `npm start` process. */
  pid: number;
  /** http://127.0.0.1:<GATEWAY_PORT> */
  gatewayUrl: string;
  rpcUrl: string;
  chainId: number;
  deploymentFile: string;
  startedAt: string;
}

export const systemFilePath = (stateDir: string) => join(stateDir, "system.json");

/** The running system's file, or undefined when none runs (a file left by a killed start is ignored). */
export function readSystemFile(stateDir: string): SystemFile | undefined {
  try {
    const file = JSON.parse(readFileSync(systemFilePath(stateDir), "utf8")) as SystemFile;
    return isAlive(file.pid) ? file : undefined;
  } catch {
    return undefined;
  }
}

export function writeSystemFile(stateDir: string, content: SystemFile): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(systemFilePath(stateDir), `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the file if it is this process's. */
export function removeSystemFile(stateDir: string): void {
  try {
    const file = JSON.parse(readFileSync(systemFilePath(stateDir), "utf8")) as SystemFile;
    if (file.pid === process.pid) rmSync(systemFilePath(stateDir), { force: true });
  } catch {
    // nothing of ours
  }
}
