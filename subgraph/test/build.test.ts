// The subgraph's build output (`npm run build -w subgraph`, part of the root build) and a real `graph build`
// of a freshly generated manifest: graph-cli validates the manifest and the schema, compiles the mappings
// and checks that every handler exists in the WASM.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { DATA_SOURCES, generateManifest, repoDir, subgraphDir } from "../scripts/manifest.ts";

const run = promisify(execFile);
const graphCli = path.join(repoDir, "node_modules", "@graphprotocol", "graph-cli", "bin", "run.js");
const buildDir = path.join(subgraphDir, "build");
const generatedDir = path.join(subgraphDir, "generated");
const hint = "run `npm run build -w subgraph` first";

describe("graph build", () => {
  test("default: the build output exists for every data source", () => {
    expect(existsSync(path.join(buildDir, "subgraph.yaml")), hint).toBe(true);
    const built = parse(readFileSync(path.join(buildDir, "subgraph.yaml"), "utf8"));
    expect(built.dataSources.map((ds: { name: string }) => ds.name)).toEqual(
      DATA_SOURCES.map((ds) => ds.contract),
    );
    for (const { contract } of DATA_SOURCES) {
      const wasm = path.join(buildDir, contract, `${contract}.wasm`);
      expect(existsSync(wasm), `${wasm}: ${hint}`).toBe(true);
      expect(statSync(wasm).size).toBeGreaterThan(0);
      expect(existsSync(path.join(generatedDir, contract, `${contract}.ts`)), hint).toBe(true);
    }
    expect(readFileSync(path.join(buildDir, "schema.graphql"), "utf8"), `build/ is stale: ${hint}`).toBe(
      readFileSync(path.join(subgraphDir, "schema.graphql"), "utf8"),
    );
    expect(readFileSync(path.join(generatedDir, "schema.ts"), "utf8")).toContain(
      "export class Patient extends Entity",
    );
  });

  test("behavior: a freshly generated manifest validates and compiles", { timeout: 180_000 }, async () => {
    expect(existsSync(path.join(generatedDir, "schema.ts")), hint).toBe(true);
    // Inside subgraph/ so that graph-cli finds @graphprotocol/graph-ts; .cache is git- and Biome-ignored.
    const dir = path.join(subgraphDir, ".cache", `build-test-${process.pid}-${Date.now()}`);
    mkdirSync(dir, { recursive: true });
    try {
      const manifestFile = path.join(dir, "subgraph.yaml");
      writeFileSync(manifestFile, generateManifest({ manifestFile }).yaml);
      const out = path.join(dir, "build");
      await run(
        process.execPath,
        [graphCli, "build", "--skip-migrations", "--output-dir", out, manifestFile],
        {
          cwd: subgraphDir,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      for (const { contract } of DATA_SOURCES) {
        expect(statSync(path.join(out, contract, `${contract}.wasm`)).size).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
