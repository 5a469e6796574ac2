import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStack } from "@carechain/stack/testing";
import { createTestClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, test } from "vitest";
import { deployCareChain } from "./deploy.ts";
import { DeploymentFileError, readDeployment } from "./deployment.ts";
import { deployFixture } from "./testing.ts";

const dir = mkdtempSync(join(tmpdir(), "carechain-deployments-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fundedKey() {
  const { rpcUrl } = getStack();
  const key = generatePrivateKey();
  await createTestClient({ mode: "anvil", transport: http(rpcUrl) }).setBalance({
    address: privateKeyToAccount(key).address,
    value: 10n ** 20n,
  });
  return key;
}

describe("deployCareChain", () => {
  test("default: deploys the four contracts wired together and writes deployments/<chainId>.json", async () => {
    const { rpcUrl, chainId } = getStack();
    const privateKey = await fundedKey();
    const result = await deployCareChain({ rpcUrl, privateKey, deploymentsDir: dir });

    expect(result.file).toBe(join(dir, `${chainId}.json`));
    const written = JSON.parse(readFileSync(result.file!, "utf8"));
    expect(Object.keys(written)).toEqual(["chainId", "startBlock", "deployedAt", "contracts"]);
    expect(written.chainId).toBe(chainId);
    expect(Object.keys(written.contracts)).toEqual([
      "IdentityRegistry",
      "ConsentManager",
      "RecordRegistry",
      "VitalsMonitor",
    ]);
    for (const contract of Object.values(written.contracts) as { address: string; startBlock: number }[]) {
      expect(contract.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
      expect(contract.startBlock).toBeGreaterThanOrEqual(written.startBlock);
    }
    expect(readDeployment(chainId, dir)).toEqual(written);
    expect(result.admin).toBe(privateKeyToAccount(privateKey).address);

    const fixture = await deployFixture(rpcUrl); // the wiring, seen from the contracts
    const { read } = fixture.admin!.client;
    expect(await read.recordRegistry.read.identity()).toBe(
      fixture.deployment.contracts.IdentityRegistry.address,
    );
    expect(await read.recordRegistry.read.consent()).toBe(
      fixture.deployment.contracts.ConsentManager.address,
    );
    expect(await read.vitalsMonitor.read.consent()).toBe(fixture.deployment.contracts.ConsentManager.address);
    expect(await read.identityRegistry.read.owner()).toBe(fixture.admin!.address);
  });

  test("args: deploymentsDir false writes no file", async () => {
    const { rpcUrl } = getStack();
    const result = await deployCareChain({ rpcUrl, privateKey: await fundedKey(), deploymentsDir: false });
    expect(result.file).toBeUndefined();
    expect(result.contracts.VitalsMonitor.startBlock).toBeGreaterThan(0);
  });

  test("error: readDeployment names the missing file", () => {
    expect(() => readDeployment(424242, dir)).toThrow(DeploymentFileError);
    expect(() => readDeployment(424242, dir)).toThrow(/424242\.json/);
  });

  test("error: readDeployment rejects an invalid file", () => {
    writeFileSync(join(dir, "7.json"), JSON.stringify({ chainId: 7, startBlock: -1, contracts: {} }));
    expect(() => readDeployment(7, dir)).toThrow(/invalid/);
  });
});
