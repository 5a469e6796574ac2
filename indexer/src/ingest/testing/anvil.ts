/**
 * A private anvil for tests that rewrite history (reorgs): the stack's shared anvil serves other tests at
 * the same time, and a revert or anvil_reorg there would rewrite their chain too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

export type PrivateAnvil = {
  rpcUrl: string;
  port: number;
  /** Writes the chain as it is now to `file`, for a later `startPrivateAnvil({ loadStateFile })`. */
  dumpState(file: string): Promise<void>;
  stop(): Promise<void>;
};

/**
 * `port`: a given one (a restart of the node behind the same URL). `loadStateFile`: start from a state
 * written by dumpState: the blocks after it are unknown to this node (what a node restarted from an older
 * state looks like).
 */
export async function startPrivateAnvil(
  options: { port?: number; loadStateFile?: string } = {},
): Promise<PrivateAnvil> {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const require = createRequire(import.meta.url);
  const binary = join(
    dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)),
    "bin",
    "anvil",
  );
  const port = options.port ?? (await freePort());
  const load = options.loadStateFile ? ["--load-state", options.loadStateFile] : [];
  const child: ChildProcess = spawn(
    binary,
    ["--host", "127.0.0.1", "--port", String(port), "--silent", ...load],
    { stdio: "ignore" },
  );
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const response = await fetch(rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
      });
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error("private anvil did not start");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const call = async (method: string) => {
    const response = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: [] }),
    });
    return ((await response.json()) as { result: string }).result;
  };
  return {
    rpcUrl,
    port,
    // anvil_dumpState answers gzipped JSON in hex; --load-state reads the JSON.
    dumpState: async (file) =>
      writeFileSync(file, gunzipSync(Buffer.from((await call("anvil_dumpState")).slice(2), "hex"))),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
