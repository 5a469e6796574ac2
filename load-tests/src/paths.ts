// Where things live, and how the load tools talk to the person running them: short plain lines on stdout
// (progress, rates, timings), not service logs.
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const loadTestsDir = join(repoRoot, "load-tests");
export const k6ScriptsDir = join(loadTestsDir, "k6");
export const resultsDir = join(loadTestsDir, "results");
/** The git-ignored cache shared with the stack (k6 builds, deployments and seeding state per chain). */
export const cacheDir = join(repoRoot, ".cache");

export type Say = (line: string) => void;

export const say: Say = (line) => {
  process.stdout.write(`[load] ${line}\n`);
};

export const quiet: Say = () => {};

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
