import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStack } from "@carechain/stack/testing";
import { createTestClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, test } from "vitest";
import { readDeployment, readDeploymentFile, writeDeployment } from "./deployment.ts";
import { ensureDeployment } from "./ensure-deployment.ts";

const root = mkdtempSync(join(tmpdir(), "carechain-ensure-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Options for a fresh deployments dir and kept file, with a fresh funded deployer. */
async function fresh(name: string) {
  const { rpcUrl, chainId } = getStack();
  const privateKey = generatePrivateKey();
  await createTestClient({ mode: "anvil", transport: http(rpcUrl) }).setBalance({
    address: privateKeyToAccount(privateKey).address,
    value: 10n ** 20n,
  });
  const stages: string[] = [];
  return {
    rpcUrl,
    chainId,
    dir: join(root, name, "deployments"),
    keptFile: join(root, name, "data", "deployment.json"),
    privateKey,
    stage: (text: string) => stages.push(text),
    stages,
  };
}

describe("ensureDeployment", () => {
  test("default: deploys when there is no deployment, writes the shared file and the kept copy, then reuses them", async () => {
    const options = await fresh("default");
    const first = await ensureDeployment(options);
    expect(first.deployed).toBe(true);
    expect(first.file).toBe(join(options.dir, `${options.chainId}.json`));
    expect(readDeployment(options.chainId, options.dir)).toEqual(first.deployment);
    expect(readDeploymentFile(options.keptFile)).toEqual(first.deployment);
    expect(options.stages).toEqual([`deploying the contracts to chain ${options.chainId}`]);

    const again = await ensureDeployment(options);
    expect(again).toEqual({ ...first, deployed: false });
  });

  test("behavior: the kept copy wins over a rewritten shared file, which is written back", async () => {
    const options = await fresh("kept");
    const { deployment } = await ensureDeployment(options);
    const other = await ensureDeployment({ ...(await fresh("other")), keptFile: undefined });
    writeDeployment(other.deployment, options.dir); // another tool deployed since

    const result = await ensureDeployment(options);
    expect(result).toMatchObject({ deployment, deployed: false });
    expect(readDeployment(options.chainId, options.dir)).toEqual(deployment);
    expect(options.stages.at(-1)).toMatch(/named other contracts than the kept data/);
  });

  test("behavior: the shared file is used (and kept) when the chain has its contracts", async () => {
    const shared = await ensureDeployment({ ...(await fresh("shared")), keptFile: undefined });
    const options = { ...(await fresh("shared")), keptFile: join(root, "shared", "kept.json") };
    const result = await ensureDeployment(options);
    expect(result).toMatchObject({ deployment: shared.deployment, deployed: false });
    expect(readDeploymentFile(options.keptFile)).toEqual(shared.deployment);
  });

  test("behavior: deploys again when neither file names contracts this chain has (a new chain)", async () => {
    const options = await fresh("new-chain");
    const { deployment } = await ensureDeployment(options);
    const gone = { ...deployment, startBlockHash: `0x${"12".repeat(32)}` as const }; // same addresses, other chain
    writeDeployment(gone, options.dir);
    rmSync(options.keptFile);

    const result = await ensureDeployment(options);
    expect(result.deployed).toBe(true);
    expect(result.deployment.contracts.IdentityRegistry.address).not.toBe(
      deployment.contracts.IdentityRegistry.address,
    );
    expect(options.stages.at(-1)).toMatch(/names contracts this chain does not have/);
  });
});
