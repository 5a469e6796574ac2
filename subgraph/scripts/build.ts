// `npm run build -w subgraph`: writes the manifest, then runs `graph codegen` and `graph build` only when
// their inputs changed since the last successful build (the root build runs on every `npm start` and
// `npm test`, and graph-cli takes 10-20 s here even when nothing changed).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { defaultAbiDir, defaultManifestFile, subgraphDir } from "./manifest.ts";

const graph = path.join(subgraphDir, "..", "node_modules", ".bin", "graph");
const hashFile = path.join(subgraphDir, "build", ".inputs-hash");

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

function inputsHash(): string {
  const hash = createHash("sha256");
  const inputs = [
    defaultManifestFile,
    path.join(subgraphDir, "schema.graphql"),
    path.join(subgraphDir, "package.json"),
    ...filesUnder(path.join(subgraphDir, "src")),
    ...filesUnder(defaultAbiDir),
  ];
  for (const file of inputs) hash.update(file).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex");
}

function run(args: string[]): void {
  execFileSync(graph, args, { cwd: subgraphDir, stdio: "inherit" });
}

execFileSync(
  process.execPath,
  ["--import", "tsx", path.join(subgraphDir, "scripts", "generate-manifest.ts")],
  {
    cwd: subgraphDir,
    stdio: "inherit",
  },
);
const hash = inputsHash();
const built = existsSync(path.join(subgraphDir, "build", "subgraph.yaml"));
if (built && existsSync(hashFile) && readFileSync(hashFile, "utf8").trim() === hash) {
  console.log("subgraph: build is up to date (inputs unchanged)");
} else {
  run(["codegen", "--skip-migrations"]);
  run(["build", "--skip-migrations"]);
  writeFileSync(hashFile, `${hash}\n`);
}
