// The Ethereum node: anvil from the @foundry-rs/anvil npm package (its platform package carries the
// binary), chain id 31337, the default test mnemonic, a block per transaction (automine). With a state
// file (persistent stacks) it loads the chain from it at start and dumps it there every second and on exit
// (`anvil --state`; exit on SIGTERM, which every stop sends first), so blocks, receipts and block hashes
// survive a restart, and a crash loses at most the last second.
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { HealthCheckError } from "./errors.ts";
import { choosePort, HOST } from "./ports.ts";
import { ManagedProcess } from "./processes.ts";

export const ANVIL_CHAIN_ID = 31337;

export interface StartAnvilOptions {
  port: number | undefined;
  /** The port to take when `port` is not set and this one is free (a persistent stack's previous port). */
  preferredPort?: number;
  dataDir: string;
  logFile: string;
  timeoutMs: number;
  signal?: AbortSignal;
  register: (process: ManagedProcess) => void;
  /** Keep the chain in this file: loaded at start if it exists, dumped every `stateIntervalSeconds` and on exit. */
  stateFile?: string;
  /** How often the state is dumped while anvil runs (a crash loses at most this much); default 1. */
  stateIntervalSeconds?: number;
}

/** The anvil binary for this platform, without the Node wrapper in node_modules/.bin (one process less). */
export function anvilBinary(): string {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}`;
  const require = createRequire(import.meta.url);
  const binary = process.platform === "win32" ? "anvil.exe" : "anvil";
  return join(dirname(require.resolve(`${pkg}/package.json`)), "bin", binary);
}

export async function startAnvil(options: StartAnvilOptions) {
  const port = await choosePort(options.port, "anvil", "ANVIL_PORT", options.preferredPort);
  const cwd = join(options.dataDir, "anvil");
  mkdirSync(cwd, { recursive: true });
  const state = options.stateFile
    ? ["--state", options.stateFile, "--state-interval", String(options.stateIntervalSeconds ?? 1)]
    : [];
  const server = await ManagedProcess.spawn({
    name: "anvil",
    command: anvilBinary(),
    args: [
      ...["--host", HOST, "--port", String(port), "--chain-id", String(ANVIL_CHAIN_ID), "--accounts", "10"],
      ...state,
    ],
    cwd,
    logFile: options.logFile,
    missingHint: "anvil is missing from node_modules: run npm ci, or set RPC_URL",
  });
  options.register(server);
  const rpcUrl = `http://${HOST}:${port}`;
  await server.waitUntil(() => blockNumber(rpcUrl, 1_000).then(() => true), {
    what: "eth_blockNumber to answer",
    timeoutMs: options.timeoutMs,
    intervalMs: 50,
    signal: options.signal,
  });
  return { server, rpcUrl, chainId: ANVIL_CHAIN_ID, port };
}

/** Health of any Ethereum JSON-RPC endpoint: its chain id and current block number. */
export async function checkChain(rpcUrl: string, timeoutMs = 5_000) {
  try {
    const [chainId, block] = await Promise.all([
      rpc(rpcUrl, "eth_chainId", timeoutMs),
      rpc(rpcUrl, "eth_blockNumber", timeoutMs),
    ]);
    return { chainId: Number(chainId), blockNumber: BigInt(block) };
  } catch (error) {
    throw new HealthCheckError("anvil", `${rpcUrl} does not answer eth_blockNumber: ${message(error)}`, {
      cause: error,
    });
  }
}

export async function blockNumber(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  return BigInt(await rpc(rpcUrl, "eth_blockNumber", timeoutMs));
}

async function rpc(url: string, method: string, timeoutMs: number): Promise<string> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: string; error?: { message: string } };
  if (typeof body.result !== "string") throw new Error(body.error?.message ?? `no result for ${method}`);
  return body.result;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
