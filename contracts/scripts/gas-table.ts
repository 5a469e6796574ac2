/**
 * Reads `forge test --gas-report --json` on stdin and prints a Markdown gas table with every external
 * function of the four contracts (from generated/abis/*.json), marking the ones no test called.
 * Usage: npm run gas -w contracts   (forge ... --json | tsx scripts/gas-table.ts)
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

type Stats = { calls: number; min: number; mean: number; median: number; max: number };
type Report = {
  contract: string;
  deployment: { gas: number; size: number };
  functions: Record<string, Stats>;
};
type AbiItem = {
  type: string;
  name?: string;
  inputs?: { type: string; components?: unknown[] }[];
  stateMutability?: string;
};

const contractsDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const names = ["IdentityRegistry", "ConsentManager", "RecordRegistry", "VitalsMonitor"];

const input = readFileSync(0, "utf8");
const start = input.indexOf("[{");
if (start < 0) {
  console.error("gas-table: no JSON gas report on stdin (run through `npm run gas -w contracts`)");
  process.exit(1);
}
const reports = JSON.parse(input.slice(start, input.lastIndexOf("]") + 1)) as Report[];

const typeOf = (p: { type: string; components?: unknown[] }): string =>
  p.type.startsWith("tuple")
    ? `(${(p.components as { type: string; components?: unknown[] }[]).map(typeOf).join(",")})${p.type.slice(5)}`
    : p.type;

const rows = ["| Contract | Function | Kind | Median gas | Min | Max |", "|---|---|---|---:|---:|---:|"];
for (const name of names) {
  const report = reports.find((r) => r.contract.endsWith(`:${name}`));
  const abi = JSON.parse(
    readFileSync(join(contractsDir, "generated", "abis", `${name}.json`), "utf8"),
  ) as AbiItem[];
  rows.push(`| ${name} | *deployment* | | ${report?.deployment.gas ?? "-"} | | |`);
  const functions = abi
    .filter((item) => item.type === "function")
    .map((item) => ({ item, signature: `${item.name}(${(item.inputs ?? []).map(typeOf).join(",")})` }))
    .sort(
      (a, b) => Number(isView(a.item)) - Number(isView(b.item)) || a.signature.localeCompare(b.signature),
    );
  for (const { item, signature } of functions) {
    const stats = report?.functions[signature];
    const kind = isView(item) ? "view" : "write";
    rows.push(
      stats
        ? `| ${name} | \`${item.name}\` | ${kind} | ${stats.median} | ${stats.min} | ${stats.max} |`
        : `| ${name} | \`${item.name}\` | ${kind} | not called | | |`,
    );
  }
}
console.log(rows.join("\n"));

function isView(item: AbiItem): boolean {
  return item.stateMutability === "view" || item.stateMutability === "pure";
}
