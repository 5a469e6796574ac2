// Runs `gnd test` (graph-node's real store, WASM runtime and trigger processing; only the chain is mocked)
// on JSON test files, against a database of its own in the test stack's PostgreSQL, and turns event
// envelopes (what the projector folds) into gnd's JSON blocks, so that one sequence feeds both.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { EventEnvelope } from "@carechain/common";
import { getStack } from "@carechain/stack/testing";
import { parse, stringify } from "yaml";
import {
  defaultGndCacheDir,
  dropGraphNodeDatabase,
  ensureGraphNodeDatabase,
  findGnd,
  type GndLocation,
} from "../scripts/gnd.ts";
import {
  type ContractName,
  DATA_SOURCES,
  defaultAbiDir,
  PLACEHOLDER_ADDRESSES,
  subgraphDir,
} from "../scripts/manifest.ts";

/** The addresses the JSON tests send events from: the placeholder deployment's (start block 0). */
export const TEST_ADDRESSES = PLACEHOLDER_ADDRESSES;

/** gnd, found as scripts/gnd.ts says (GND_BINARY, ../shared/tools/gnd, the cache); throws how to install it. */
export function locateGnd(): GndLocation {
  return findGnd({
    gndBinary: process.env.GND_BINARY,
    cacheDir: defaultGndCacheDir(process.env.XDG_CACHE_HOME),
  });
}

const buildDir = path.join(subgraphDir, "build");
const buildHint = "run `npm run build -w subgraph` first";

/**
 * A copy of the subgraph's build (`npm run build -w subgraph`: the real WASM and schema) in `dir`/build,
 * its data sources pointed at TEST_ADDRESSES from block 0, whatever deployment the build was made for.
 * gnd reads `<manifest dir>/build/<manifest name>`; returns the manifest path to pass with `-m`.
 */
export function prepareTestBuild(dir: string, options: { schema?: string } = {}): string {
  const built = path.join(buildDir, "subgraph.yaml");
  if (!existsSync(built)) throw new Error(`${built} not found: ${buildHint}`);
  const schema = readFileSync(path.join(subgraphDir, "schema.graphql"), "utf8");
  if (readFileSync(path.join(buildDir, "schema.graphql"), "utf8") !== schema) {
    throw new Error(`subgraph/build is older than schema.graphql: ${buildHint}`);
  }
  const target = path.join(dir, "build");
  mkdirSync(dir, { recursive: true });
  cpSync(buildDir, target, { recursive: true });
  const manifest = parse(readFileSync(built, "utf8")) as {
    dataSources: { name: ContractName; source: { address: string; startBlock: number } }[];
  };
  for (const dataSource of manifest.dataSources) {
    dataSource.source.address = TEST_ADDRESSES[dataSource.name];
    dataSource.source.startBlock = 0;
  }
  const yaml = stringify(manifest);
  writeFileSync(path.join(target, "subgraph.yaml"), yaml);
  writeFileSync(path.join(dir, "subgraph.yaml"), yaml);
  if (options.schema !== undefined) writeFileSync(path.join(target, "schema.graphql"), options.schema);
  return path.join(dir, "subgraph.yaml");
}

export interface GndDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A database of its own in the test stack's PostgreSQL, made as graph-node requires it (scripts/gnd.ts). */
export async function createGndDatabase(): Promise<GndDatabase> {
  const server = getStack().databaseUrl;
  const name = `gnd_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  return {
    url: await ensureGraphNodeDatabase(server, name),
    drop: () => dropGraphNodeDatabase(server, name),
  };
}

export interface GndRun {
  exitCode: number | null;
  output: string;
  passed: number;
  failed: number;
  seconds: number;
}

/** `gnd test --skip-build -m <manifest> --postgres-url <url> <tests...>`; resolves whatever the outcome. */
export function runGndTest(
  gnd: string,
  options: { manifest: string; postgresUrl: string; tests: string[]; timeoutMs?: number },
): Promise<GndRun> {
  const started = Date.now();
  const args = ["test", "--skip-build", "-m", options.manifest, "--postgres-url", options.postgresUrl];
  return new Promise((resolve, reject) => {
    const child = spawn(gnd, [...args, ...options.tests], {
      cwd: path.dirname(options.manifest),
      env: { ...process.env, NO_COLOR: "1", CLICOLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000);
    child.on("error", reject);
    child.on("close", (exitCode) => {
      clearTimeout(timer);
      const summary = /Tests: (\d+) passed, (\d+) failed/.exec(output);
      resolve({
        exitCode,
        output,
        passed: summary ? Number(summary[1]) : 0,
        failed: summary ? Number(summary[2]) : 0,
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Envelopes -> gnd JSON
// ---------------------------------------------------------------------------------------------------------

export interface GndEvent {
  address: string;
  event: string;
  params: Record<string, unknown>;
  txHash?: string;
}

export interface GndBlock {
  number: number;
  timestamp: number;
  hash?: string;
  events: GndEvent[];
}

export interface GndAssertion {
  query: string;
  expected: unknown;
}

export interface GndTestFile {
  name: string;
  blocks: GndBlock[];
  assertions: GndAssertion[];
}

interface AbiInput {
  name: string;
  type: string;
  indexed?: boolean;
}

/** Each event's data source and its signature as gnd wants it: names and `indexed` included. */
function loadEventSignatures(): Map<string, { contract: ContractName; signature: string }> {
  const events = new Map<string, { contract: ContractName; signature: string }>();
  for (const { contract } of DATA_SOURCES) {
    const abi = JSON.parse(readFileSync(path.join(defaultAbiDir, `${contract}.json`), "utf8")) as {
      type: string;
      name?: string;
      inputs?: AbiInput[];
    }[];
    for (const item of abi) {
      if (item.type !== "event" || !item.name) continue;
      const inputs = (item.inputs ?? []).map(
        (input) => `${input.type}${input.indexed ? " indexed" : ""} ${input.name}`,
      );
      events.set(item.name, { contract, signature: `${item.name}(${inputs.join(", ")})` });
    }
  }
  return events;
}

let signatures: ReturnType<typeof loadEventSignatures> | undefined;

/** One gnd event: sent by the test address of the event's contract. */
export function gndEvent(type: string, params: Record<string, unknown>, txHash?: string): GndEvent {
  signatures ??= loadEventSignatures();
  const known = signatures.get(type);
  if (!known) throw new Error(`no contract of the subgraph emits ${type}`);
  return {
    address: TEST_ADDRESSES[known.contract],
    event: known.signature,
    params,
    ...(txHash ? { txHash } : {}),
  };
}

/**
 * The blocks of `envelopes` (in chain order): one block per block number, with the envelope's time and
 * hash, and each event at its log index (gnd numbers logs by their position in the block, so the log
 * indexes of a block must be 0, 1, 2, ...). Each event keeps its transaction hash.
 */
export function gndBlocks(envelopes: readonly EventEnvelope[]): GndBlock[] {
  const blocks: GndBlock[] = [];
  for (const envelope of envelopes) {
    let block = blocks.at(-1);
    if (!block || block.number !== envelope.blockNumber) {
      if (block && envelope.blockNumber < block.number) throw new Error("envelopes out of block order");
      block = {
        number: envelope.blockNumber,
        timestamp: envelope.blockTimestamp,
        hash: envelope.blockHash,
        events: [],
      };
      blocks.push(block);
    }
    if (envelope.logIndex !== block.events.length) {
      throw new Error(
        `block ${block.number}: log index ${envelope.logIndex}, gnd would give it ${block.events.length}`,
      );
    }
    block.events.push(gndEvent(envelope.type, envelope.payload as Record<string, unknown>, envelope.txHash));
  }
  return blocks;
}

export function writeGndTest(dir: string, file: string, test: GndTestFile): string {
  mkdirSync(dir, { recursive: true });
  const target = path.join(dir, file);
  writeFileSync(target, `${JSON.stringify(test, null, 2)}\n`);
  return target;
}
