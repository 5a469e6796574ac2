// Writes subgraph/subgraph.yaml (git-ignored) from the contracts' JSON ABIs and a deployment.
//
//   tsx scripts/generate-manifest.ts [--chain-id <n>] [--deployment <file>] [--network <name>]
//                                    [--abi-dir <dir>] [--out <file>] [--require-deployment]
//
// Environment (read here, at the entry point only): CHAIN_ID, GRAPH_NETWORK, SUBGRAPH_REQUIRE_DEPLOYMENT=1.
// Without a deployments file the manifest uses a clearly marked placeholder deployment (builds, not deploys).
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { defaultManifestFile, generateManifest, ManifestError, repoDir } from "./manifest.ts";

function parseChainId(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw new ManifestError(`chain id must be a positive integer, got "${value}"`);
  return Number(value);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      "chain-id": { type: "string" },
      deployment: { type: "string" },
      network: { type: "string" },
      "abi-dir": { type: "string" },
      out: { type: "string" },
      "require-deployment": { type: "boolean", default: false },
    },
    strict: true,
  });
  const out = path.resolve(values.out ?? defaultManifestFile);
  const network = values.network ?? (process.env.GRAPH_NETWORK || undefined);
  const result = generateManifest({
    chainId: parseChainId(values["chain-id"] ?? process.env.CHAIN_ID),
    deploymentFile: values.deployment === undefined ? undefined : path.resolve(values.deployment),
    network,
    abiDir: values["abi-dir"] === undefined ? undefined : path.resolve(values["abi-dir"]),
    requireDeployment: values["require-deployment"] || process.env.SUBGRAPH_REQUIRE_DEPLOYMENT === "1",
    manifestFile: out,
  });
  writeFileSync(out, result.yaml);

  const handlers = Object.values(result.events).reduce((sum, events) => sum + events.length, 0);
  const from = result.placeholder
    ? "PLACEHOLDER deployment (build only, do not deploy)"
    : `${result.deployment.source}`;
  console.log(
    `${path.relative(repoDir, out)}: ${Object.keys(result.events).length} data sources, ${handlers} event handlers, ` +
      `network ${result.deployment.network}, ${from}`,
  );
}

try {
  main();
} catch (error) {
  if (error instanceof ManifestError) {
    console.error(`generate-manifest: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
