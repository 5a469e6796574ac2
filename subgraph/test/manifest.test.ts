import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  API_VERSION,
  abiEvents,
  DATA_SOURCES,
  generateManifest,
  ManifestError,
  SPEC_VERSION,
  subgraphDir,
} from "../scripts/manifest.ts";

const run = promisify(execFile);
const tmp = mkdtempSync(path.join(tmpdir(), "carechain-subgraph-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const addresses = {
  IdentityRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
  ConsentManager: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
  RecordRegistry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
  VitalsMonitor: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
};

function writeDeployment(name: string, deployment: unknown): string {
  const file = path.join(tmp, name);
  writeFileSync(file, JSON.stringify(deployment));
  return file;
}

const deployment = {
  chainId: 31337,
  startBlock: 1,
  deployedAt: "2025-01-01T00:00:00.000Z",
  contracts: {
    IdentityRegistry: { address: addresses.IdentityRegistry, startBlock: 1 },
    ConsentManager: { address: addresses.ConsentManager, startBlock: 2 },
    RecordRegistry: { address: addresses.RecordRegistry, startBlock: 3 },
    VitalsMonitor: { address: addresses.VitalsMonitor.toLowerCase(), startBlock: 4 },
  },
};

describe("generateManifest", () => {
  test("default: a placeholder deployment, clearly marked, when no deployments file exists", () => {
    const result = generateManifest({ deploymentFile: undefined, chainId: 424242, network: "devnet" });
    expect(result.placeholder).toBe(true);
    expect(result.yaml).toContain("# PLACEHOLDER DEPLOYMENT");
    const manifest = parse(result.yaml);
    expect(manifest.specVersion).toBe(SPEC_VERSION);
    for (const dataSource of manifest.dataSources) {
      expect(dataSource.network).toBe("devnet");
      expect(dataSource.source.startBlock).toBe(0);
      expect(dataSource.source.address).toMatch(/^0x0{39}[1-4]$/);
      expect(dataSource.mapping.apiVersion).toBe(API_VERSION);
    }
  });

  test("args: a deployments file sets addresses (checksummed), start blocks and network", () => {
    const manifestFile = path.join(subgraphDir, "subgraph.yaml");
    const result = generateManifest({
      deploymentFile: writeDeployment("31337.json", deployment),
      manifestFile,
    });
    expect(result.placeholder).toBe(false);
    expect(result.yaml).not.toContain("PLACEHOLDER");
    const manifest = parse(result.yaml);
    const sources = Object.fromEntries(
      manifest.dataSources.map((ds: { name: string; network: string; source: unknown }) => [ds.name, ds]),
    );
    expect(sources.IdentityRegistry.source).toEqual({
      address: addresses.IdentityRegistry,
      abi: "IdentityRegistry",
      startBlock: 1,
    });
    expect(sources.RecordRegistry.source.startBlock).toBe(3);
    expect(sources.VitalsMonitor.source).toMatchObject({ address: addresses.VitalsMonitor, startBlock: 4 });
    expect(sources.ConsentManager.network).toBe("anvil");
    expect(sources.ConsentManager.mapping.file).toBe("./src/consent.ts");
    expect(sources.ConsentManager.mapping.abis).toEqual([
      { name: "ConsentManager", file: "../contracts/generated/abis/ConsentManager.json" },
    ]);
  });

  test("args: the network follows the chain id map unless overridden", () => {
    const file = writeDeployment("1.json", { ...deployment, chainId: 1 });
    expect(generateManifest({ deploymentFile: file }).deployment.network).toBe("mainnet");
    expect(generateManifest({ deploymentFile: file, network: "mainnet-fork" }).deployment.network).toBe(
      "mainnet-fork",
    );
  });

  test("error: a deployment is required but missing", () => {
    expect(() => generateManifest({ chainId: 424242, network: "x", requireDeployment: true })).toThrow(
      ManifestError,
    );
    expect(() => generateManifest({ deploymentFile: path.join(tmp, "missing.json") })).toThrow(/not found/);
  });

  test("error: a malformed deployment names what is wrong", () => {
    const bad = { ...deployment, contracts: { ...deployment.contracts, VitalsMonitor: { address: "0x12" } } };
    expect(() => generateManifest({ deploymentFile: writeDeployment("bad.json", bad) })).toThrow(
      /contracts\.VitalsMonitor\.address/,
    );
    const missing = {
      chainId: 31337,
      contracts: { IdentityRegistry: deployment.contracts.IdentityRegistry },
    };
    expect(() =>
      generateManifest({ deploymentFile: writeDeployment("missing-contract.json", missing) }),
    ).toThrow(/contracts\.ConsentManager/);
    expect(() =>
      generateManifest({
        deploymentFile: writeDeployment("unknown-chain.json", { ...deployment, chainId: 999_999_999 }),
      }),
    ).toThrow(/no graph-node network name for chain 999999999/);
  });

  test("error: the contracts' ABIs are missing", () => {
    expect(() => generateManifest({ abiDir: path.join(tmp, "no-abis") })).toThrow(
      /npm run build -w contracts/,
    );
  });
});

describe("abiEvents", () => {
  test("default: graph-node event signatures, with indexed parameters, arrays and tuples", () => {
    const abi = [
      { type: "function", name: "f", inputs: [] },
      {
        type: "event",
        name: "B",
        inputs: [
          { name: "a", type: "address", indexed: true },
          { name: "r", type: "address[]", indexed: false },
          {
            name: "t",
            type: "tuple[]",
            indexed: false,
            components: [
              { name: "x", type: "uint64" },
              { name: "y", type: "bytes32" },
            ],
          },
        ],
      },
      { type: "event", name: "A", inputs: [] },
    ];
    expect(abiEvents({ abi }, "test")).toEqual([
      { name: "A", signature: "A()", handler: "handleA" },
      { name: "B", signature: "B(indexed address,address[],(uint64,bytes32)[])", handler: "handleB" },
    ]);
  });

  test("error: overloaded, anonymous and non-ABI input", () => {
    const event = { type: "event", name: "E", inputs: [] };
    expect(() => abiEvents([event, { ...event, inputs: [{ name: "x", type: "uint8" }] }], "t")).toThrow(
      /overloaded/,
    );
    expect(() => abiEvents([{ ...event, anonymous: true }], "t")).toThrow(/anonymous/);
    expect(() => abiEvents({ notAbi: true }, "t")).toThrow(/not a JSON ABI/);
  });

  test("default: every data source's mapping file exists", () => {
    for (const { mapping } of DATA_SOURCES) {
      expect(readFileSync(path.join(subgraphDir, mapping), "utf8")).toContain("export function handle");
    }
  });
});

describe("generate-manifest CLI", () => {
  test("args: --deployment and --out write the manifest", async () => {
    // Inside subgraph/ so that the ABI paths in the manifest stay short; .cache is git- and Biome-ignored.
    mkdirSync(path.join(subgraphDir, ".cache"), { recursive: true });
    const out = path.join(subgraphDir, ".cache", `cli-test-${process.pid}.yaml`);
    try {
      const { stdout } = await run(
        process.execPath,
        [
          "--import",
          "tsx",
          "scripts/generate-manifest.ts",
          "--deployment",
          writeDeployment("cli.json", deployment),
          "--out",
          out,
        ],
        { cwd: subgraphDir },
      );
      expect(stdout).toContain("4 data sources");
      expect(readFileSync(out, "utf8")).toContain(addresses.VitalsMonitor);
    } finally {
      rmSync(out, { force: true });
    }
  });

  test("error: --require-deployment without a deployment exits non-zero", async () => {
    await expect(
      run(
        process.execPath,
        [
          "--import",
          "tsx",
          "scripts/generate-manifest.ts",
          "--chain-id",
          "424242",
          "--network",
          "x",
          "--require-deployment",
          "--out",
          path.join(tmp, "x.yaml"),
        ],
        {
          cwd: subgraphDir,
        },
      ),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("not found") });
  });
});
