import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ManagedProcess, startAnvil } from "@carechain/stack";
import { afterEach, describe, expect, test } from "vitest";
import { CareChainClientError, ReceiptTimeoutError } from "../errors.ts";
import { randomBytes32 } from "../ids.ts";
import { deployFixture } from "../testing.ts";

const started: { server: ManagedProcess; dataDir: string }[] = [];
afterEach(async () => {
  for (const { server, dataDir } of started.splice(0)) {
    await server.stop(5_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** A private anvil: this test stops its node, which the shared one must never be. */
async function startPrivateAnvil() {
  const dataDir = mkdtempSync(join(tmpdir(), "receipt-timeout-"));
  return startAnvil({
    port: undefined,
    dataDir,
    logFile: join(dataDir, "anvil.log"),
    timeoutMs: 20_000,
    register: (server) => started.push({ server, dataDir }),
  });
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return ((await response.json()) as { result: unknown }).result;
}

describe("receipt wait", () => {
  test("error: the node goes away while a write waits for its receipt: ReceiptTimeoutError, retryable", async () => {
    const { rpcUrl, server } = await startPrivateAnvil();
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
    await server.stop(5_000);

    // The default receipt timeout (60 s) is longer than this test's: the wait ends because the node is gone.
    const error = await write;
    expect(error).toBeInstanceOf(ReceiptTimeoutError);
    expect(error).toBeInstanceOf(CareChainClientError);
    expect(error).toMatchObject({ retryable: true, nodeUnreachable: true });
    expect((error as Error).message).toMatch(/the node stopped answering/);
  }, 45_000);
});
