/**
 * A private anvil for tests that rewrite history (reorgs): the stack's shared anvil serves other tests at
 * the same time, and a revert or anvil_reorg there would rewrite their chain too.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

export type PrivateAnvil = { rpcUrl: string; stop(): Promise<void> };

export async function startPrivateAnvil(): Promise<PrivateAnvil> {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const require = createRequire(import.meta.url);
  const binary = join(
    dirname(require.resolve(`@foundry-rs/anvil-${process.platform}-${arch}/package.json`)),
    "bin",
    "anvil",
  );
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ["--host", "127.0.0.1", "--port", String(port), "--silent"], {
    stdio: "ignore",
  });
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
  return {
    rpcUrl,
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
