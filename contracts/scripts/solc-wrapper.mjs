#!/usr/bin/env node
// A `solc` executable for forge (foundry.toml: solc = "scripts/solc-wrapper.mjs") backed by the npm `solc`
// (soljson, WebAssembly), so that `forge build` / `forge test` work offline with no native compiler download.
// Forge calls it as `solc --version` and `solc [--allow-paths ..] [--base-path ..] [--include-path ..] --standard-json`
// with the standard JSON on stdin. Plain Node, no dependencies besides `solc`.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

/** Values of a repeatable `--flag value` / `--flag=value` option (comma-separated lists split). */
function option(name) {
  const values = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && args[i + 1] !== undefined) values.push(args[++i]);
    else if (args[i].startsWith(`${name}=`)) values.push(args[i].slice(name.length + 1));
  }
  return values.flatMap((v) => v.split(",")).filter(Boolean);
}

const solc = require("solc");

if (args.includes("--version")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-wrapper: only --version and --standard-json are supported\n");
  process.exit(2);
}

const basePath = option("--base-path")[0] ?? process.cwd();
const roots = [basePath, ...option("--include-path")];

function findImport(path) {
  const candidates = isAbsolute(path) ? [path] : roots.map((root) => resolve(root, path));
  for (const file of candidates) {
    if (existsSync(file)) return { contents: readFileSync(file, "utf8") };
  }
  return { error: `File not found: ${path} (searched ${roots.join(", ")})` };
}

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const input = Buffer.concat(chunks).toString("utf8");
  process.stdout.write(solc.compile(input, { import: findImport }));
});
