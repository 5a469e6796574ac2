// Builds subgraph.yaml from the contracts' build output: the JSON ABIs (contracts/generated/abis/<Name>.json,
// referenced in place, never copied) and a deployment (contracts/deployments/<chainId>.json, read with the
// contracts' reader). Every event in
// the ABIs gets a handler `handle<EventName>` in the data source's mapping file, so a new event fails the
// build (missing export) and test/coverage.test.ts until a handler is written.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Deployment as ContractsDeployment,
  DeploymentFileError,
  deploymentPath,
  readDeploymentFile,
} from "@carechain/contracts";
import { stringify } from "yaml";

export const subgraphDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoDir = path.resolve(subgraphDir, "..");
export const defaultAbiDir = path.join(repoDir, "contracts", "generated", "abis");
export const defaultManifestFile = path.join(subgraphDir, "subgraph.yaml");

/**
 * Supported by the installed @graphprotocol/graph-cli (0.98, whose scaffold uses 1.3.0 / 0.0.9) and by
 * graph-node >= v0.35 (both introduced there). The subgraph needs nothing from specVersion 1.3.0 (subgraph
 * composition, graph-node >= v0.37), so it stays at 1.2.0 for teams on older graph-node releases.
 */
export const SPEC_VERSION = "1.2.0";
export const API_VERSION = "0.0.9";

/** The local anvil chain, used when no chain id is given. */
export const DEFAULT_CHAIN_ID = 31337;

/** graph-node network names (the name before the colon in graph-node's `ethereum` setting). */
export const CHAIN_NETWORKS: Readonly<Record<number, string>> = {
  1: "mainnet",
  10: "optimism",
  100: "gnosis",
  137: "matic",
  8453: "base",
  17000: "holesky",
  42161: "arbitrum-one",
  11155111: "sepolia",
  31337: "anvil",
};

/** One data source per contract; the mapping file holds one exported handler per event of the ABI. */
export const DATA_SOURCES = [
  {
    contract: "IdentityRegistry",
    mapping: "src/identity.ts",
    entities: ["Patient", "Doctor", "Organization", "ContractInfo"],
  },
  {
    contract: "ConsentManager",
    mapping: "src/consent.ts",
    entities: ["Grant", "GrantEvent", "EmergencyAccess"],
  },
  {
    contract: "RecordRegistry",
    mapping: "src/records.ts",
    entities: ["Record", "ContractInfo"],
  },
  {
    contract: "VitalsMonitor",
    mapping: "src/vitals.ts",
    entities: ["Device", "VitalsRange", "AlertRecipientList", "VitalReading", "Alert"],
  },
] as const;

export type ContractName = (typeof DATA_SOURCES)[number]["contract"];

/** Placeholder addresses for builds without a deployment (local dev, CI before anything is deployed). */
export const PLACEHOLDER_ADDRESSES: Record<ContractName, `0x${string}`> = {
  IdentityRegistry: "0x0000000000000000000000000000000000000001",
  ConsentManager: "0x0000000000000000000000000000000000000002",
  RecordRegistry: "0x0000000000000000000000000000000000000003",
  VitalsMonitor: "0x0000000000000000000000000000000000000004",
};

/** Bad input or configuration (missing ABIs or deployment, malformed JSON): retrying cannot help. */
export class ManifestError extends Error {
  override name = "ManifestError";
  readonly retryable = false;
}

interface AbiParameter {
  name?: string;
  type: string;
  indexed?: boolean;
  components?: AbiParameter[];
}

interface AbiItem {
  type: string;
  name?: string;
  anonymous?: boolean;
  inputs?: AbiParameter[];
}

export interface AbiEvent {
  name: string;
  /** graph-node's event signature: `Name(indexed address,uint8,...)`. */
  signature: string;
  handler: string;
}

export interface Deployment {
  chainId: number;
  network: string;
  contracts: ContractsDeployment["contracts"];
  /** The deployments file, or null for the placeholder. */
  source: string | null;
}

export interface GeneratedManifest {
  yaml: string;
  /** The manifest as an object (what `yaml` holds, without the header comment). */
  manifest: Record<string, unknown>;
  deployment: Deployment;
  placeholder: boolean;
  events: Record<ContractName, AbiEvent[]>;
}

export interface ManifestOptions {
  chainId?: number;
  /** A deployments file; default contracts/deployments/<chainId>.json. */
  deploymentFile?: string;
  /** Overrides the network name of the chain id map (and of the deployments file). */
  network?: string;
  abiDir?: string;
  /** Fail instead of falling back to the placeholder deployment. */
  requireDeployment?: boolean;
  /** Where the manifest will be written (ABI and mapping paths are relative to it). */
  manifestFile?: string;
}

function canonicalType(parameter: AbiParameter): string {
  if (parameter.type.startsWith("tuple")) {
    const components = (parameter.components ?? []).map(canonicalType).join(",");
    return `(${components})${parameter.type.slice("tuple".length)}`;
  }
  return parameter.type;
}

/** The events of a JSON ABI (a plain ABI array, or an artifact with an `abi` field). */
export function abiEvents(abiJson: unknown, label: string): AbiEvent[] {
  const abi = Array.isArray(abiJson)
    ? abiJson
    : abiJson !== null && typeof abiJson === "object" && Array.isArray((abiJson as { abi?: unknown }).abi)
      ? (abiJson as { abi: unknown[] }).abi
      : null;
  if (abi === null) throw new ManifestError(`${label}: not a JSON ABI (an array, or an object with "abi")`);
  const events: AbiEvent[] = [];
  const names = new Set<string>();
  for (const item of abi as AbiItem[]) {
    if (item?.type !== "event") continue;
    if (!item.name) throw new ManifestError(`${label}: an event without a name`);
    if (item.anonymous) throw new ManifestError(`${label}: anonymous event ${item.name} cannot be indexed`);
    if (names.has(item.name)) {
      throw new ManifestError(`${label}: overloaded event ${item.name}; give its handlers distinct names`);
    }
    names.add(item.name);
    const inputs = (item.inputs ?? []).map(
      (input) => `${input.indexed ? "indexed " : ""}${canonicalType(input)}`,
    );
    events.push({
      name: item.name,
      signature: `${item.name}(${inputs.join(",")})`,
      handler: `handle${item.name}`,
    });
  }
  return events.sort((a, b) => a.name.localeCompare(b.name));
}

export function abiFile(contract: ContractName, abiDir = defaultAbiDir): string {
  return path.join(abiDir, `${contract}.json`);
}

export function loadAbiEvents(contract: ContractName, abiDir = defaultAbiDir): AbiEvent[] {
  const file = abiFile(contract, abiDir);
  if (!existsSync(file)) {
    throw new ManifestError(
      `${path.relative(repoDir, file)} not found: the subgraph takes its ABIs from the contracts build; ` +
        "run `npm run build -w contracts` (or the root `npm run build`) first",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ManifestError(`${file}: invalid JSON (${(error as Error).message})`);
  }
  return abiEvents(json, path.relative(repoDir, file));
}

export function networkOf(chainId: number, override?: string): string {
  const network = override ?? CHAIN_NETWORKS[chainId];
  if (!network) {
    throw new ManifestError(
      `no graph-node network name for chain ${chainId}: pass --network (GRAPH_NETWORK) or extend CHAIN_NETWORKS`,
    );
  }
  return network;
}

export function placeholderDeployment(chainId: number, networkOverride?: string): Deployment {
  const contracts = {} as Deployment["contracts"];
  for (const { contract } of DATA_SOURCES) {
    contracts[contract] = { address: PLACEHOLDER_ADDRESSES[contract], startBlock: 0 };
  }
  return { chainId, network: networkOf(chainId, networkOverride), contracts, source: null };
}

function relativePath(from: string, to: string): string {
  const relative = path.relative(from, to).split(path.sep).join("/");
  return relative.startsWith(".") ? relative : `./${relative}`;
}

export function generateManifest(options: ManifestOptions = {}): GeneratedManifest {
  const abiDir = options.abiDir ?? defaultAbiDir;
  const manifestDir = path.dirname(options.manifestFile ?? defaultManifestFile);
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID;
  const deploymentFile = options.deploymentFile ?? deploymentPath(chainId);

  let deployment: Deployment;
  if (existsSync(deploymentFile)) {
    let read: ContractsDeployment;
    try {
      read = readDeploymentFile(deploymentFile);
    } catch (error) {
      if (!(error instanceof DeploymentFileError)) throw error;
      throw new ManifestError(`${error.shortMessage}\n${error.details ?? ""}`.trim());
    }
    deployment = {
      chainId: read.chainId,
      network: networkOf(read.chainId, options.network),
      contracts: read.contracts,
      source: path.relative(repoDir, deploymentFile),
    };
    if (options.chainId !== undefined && deployment.chainId !== options.chainId) {
      throw new ManifestError(
        `${deploymentFile}: chainId ${deployment.chainId}, expected ${options.chainId}`,
      );
    }
  } else if (options.requireDeployment || options.deploymentFile !== undefined) {
    throw new ManifestError(
      `${path.relative(repoDir, deploymentFile)} not found: deploy the contracts first (contracts/scripts/deploy.ts)`,
    );
  } else {
    deployment = placeholderDeployment(chainId, options.network);
  }
  const placeholder = deployment.source === null;

  const events = {} as Record<ContractName, AbiEvent[]>;
  const dataSources = DATA_SOURCES.map(({ contract, mapping, entities }) => {
    const contractEvents = loadAbiEvents(contract, abiDir);
    if (contractEvents.length === 0) throw new ManifestError(`${contract}: the ABI declares no events`);
    events[contract] = contractEvents;
    const { address, startBlock } = deployment.contracts[contract];
    return {
      kind: "ethereum/contract",
      name: contract,
      network: deployment.network,
      source: { address, abi: contract, startBlock },
      mapping: {
        kind: "ethereum/events",
        apiVersion: API_VERSION,
        language: "wasm/assemblyscript",
        entities: [...entities],
        abis: [{ name: contract, file: relativePath(manifestDir, abiFile(contract, abiDir)) }],
        eventHandlers: contractEvents.map(({ signature, handler }) => ({ event: signature, handler })),
        file: relativePath(manifestDir, path.join(subgraphDir, mapping)),
      },
    };
  });

  const manifest: Record<string, unknown> = {
    specVersion: SPEC_VERSION,
    description: "CareChain: patients, doctors, organizations, grants, records, vitals and alerts",
    schema: { file: relativePath(manifestDir, path.join(subgraphDir, "schema.graphql")) },
    dataSources,
  };

  const header = [
    "# GENERATED by subgraph/scripts/generate-manifest.ts: do not edit (git-ignored; `npm run build -w subgraph`).",
    placeholder
      ? [
          `# PLACEHOLDER DEPLOYMENT: contracts/deployments/${chainId}.json was not found, so the addresses below`,
          "# are placeholders and every startBlock is 0. This manifest builds (codegen, build, tests) but must",
          "# not be deployed: deploy the contracts, then run `npm run deploy -w subgraph`.",
        ].join("\n")
      : `# Deployment: ${deployment.source} (chain ${deployment.chainId}, network ${deployment.network}).`,
  ].join("\n");
  const yaml = `${header}\n${stringify(manifest, { lineWidth: 0 })}`;
  return { yaml, manifest, deployment, placeholder, events };
}
