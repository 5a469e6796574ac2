import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort } from "@carechain/stack";
import { afterEach, describe, expect, test } from "vitest";
import { randomBytes32 } from "../ids.ts";
import { deployFixture } from "../testing.ts";
import { CareChainClientError, ReceiptTimeoutError } from "./errors.ts";

/** A private anvil: this test stops its node, which the shared one must never be. */
async function startPrivateAnvil(): Promise<{ rpcUrl: string; child: ChildProcess }> {
  const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
  const pkg = `@foundry-rs/anvil-${process.platform}-${arch}/package.json`;
  const binary = join(dirname(createRequire(import.meta.url).resolve(pkg)), "bin", "anvil");
  const port = await freePort();
  const child = spawn(binary, ["--host", "127.0.0.1", "--port", String(port), "--silent"], {
    stdio: "ignore",
  });
  children.push(child);
  const rpcUrl = `http://127.0.0.1:${port}`;
  await expect.poll(() => rpc(rpcUrl, "eth_chainId").catch(() => null), { timeout: 20_000 }).not.toBeNull();
  return { rpcUrl, child };
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await response.json()) as { result: unknown }).result;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

describe("receipt wait", () => {
  test("error: the node goes away while a write waits for its receipt: ReceiptTimeoutError, retryable", async () => {
    const { rpcUrl, child } = await startPrivateAnvil();
    const fx = await deployFixture(rpcUrl);
    const patient = await fx.createActor("unregistered");
    await rpc(rpcUrl, "evm_setAutomine", [false]); // the transaction stays pending
    const write = patient.client
      .registerPatient({ profileHash: randomBytes32(), encryptionKey: randomBytes32() })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    await expect
      .poll(async () => BigInt(((await rpc(rpcUrl, "txpool_status")) as { pending: string }).pending), {
        timeout: 20_000,
      })
      .toBe(1n);
    child.kill("SIGTERM");

    // The default receipt timeout (60 s) is longer than this test's: the wait ends because the node is gone.
    const error = await write;
    expect(error).toBeInstanceOf(ReceiptTimeoutError);
    expect(error).toBeInstanceOf(CareChainClientError);
    expect(error).toMatchObject({ retryable: true, nodeUnreachable: true });
    expect((error as Error).message).toMatch(/the node stopped answering/);
  }, 45_000);
});
