import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStack } from "@carechain/stack/testing";
import { type Address, createTestClient, getAddress, http } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, test } from "vitest";
import { deployCareChain } from "./deploy.ts";
import {
  type Deployment,
  deploymentId,
  isDeployedOn,
  parseDeployment,
  readDeployment,
  readDeploymentFile,
  watchedContracts,
  writeDeploymentFile,
} from "./deployment.ts";
import { DeploymentFileError } from "./errors.ts";
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
    expect(Object.keys(written)).toEqual([
      "chainId",
      "startBlock",
      "deployedAt",
      "startBlockHash",
      "admin",
      "contracts",
    ]);
    expect(written.chainId).toBe(chainId);
    expect(written.admin).toBe(privateKeyToAccount(privateKey).address);
    expect(Object.keys(written.contracts)).toEqual([
      "IdentityRegistry",
      "ConsentManager",
      "RecordRegistry",
      "VitalsMonitor",
    ]);
    for (const contract of Object.values(written.contracts) as { address: string; startBlock: number }[]) {
      expect(contract.address).toBe(getAddress(contract.address)); // checksummed on disk
      expect(contract.startBlock).toBeGreaterThanOrEqual(written.startBlock);
    }
    expect(readDeployment(chainId, dir)).toEqual(written);
    expect(result.admin).toBe(privateKeyToAccount(privateKey).address);
    expect(await isDeployedOn(rpcUrl, result)).toBe(true);

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

  test("error: readDeployment rejects a file of another chain", () => {
    writeDeploymentFile(join(dir, "8.json"), { ...sample, chainId: 9 });
    expect(() => readDeployment(8, dir)).toThrow(/for chain 9, not chain 8/);
  });

  test("behavior: a chain without the contracts, or restarted with other blocks, is not the deployment", async () => {
    const { rpcUrl, chainId } = getStack();
    expect(await isDeployedOn(rpcUrl, { ...sample, chainId })).toBe(false); // no code there
    const result = await deployCareChain({ rpcUrl, privateKey: await fundedKey(), deploymentsDir: false });
    expect(await isDeployedOn(rpcUrl, { ...result, chainId: chainId + 1 })).toBe(false);
    expect(await isDeployedOn(rpcUrl, { ...result, startBlockHash: `0x${"12".repeat(32)}` })).toBe(false);
    expect(await isDeployedOn(rpcUrl, { ...result, startBlockHash: undefined })).toBe(true);
  });
});

const sample: Deployment = parseDeployment({
  chainId: 31337,
  startBlock: 3,
  deployedAt: "2025-01-01T00:00:00.000Z",
  startBlockHash: `0x${"AB".repeat(32)}`,
  contracts: {
    IdentityRegistry: { address: "0x5fbdb2315678afecb367f032d93f642f64180aa3", startBlock: 3 },
    ConsentManager: { address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", startBlock: 4 },
    RecordRegistry: { address: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", startBlock: 2 },
    VitalsMonitor: { address: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", startBlock: 5 },
  },
});

describe("deployments file", () => {
  test("default: addresses are checksummed, and a written file reads back the same", () => {
    expect(sample.contracts.IdentityRegistry.address).toBe("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    expect(sample.startBlockHash).toBe(`0x${"ab".repeat(32)}`);
    const file = join(dir, "nested", "sample.json");
    writeDeploymentFile(file, sample);
    expect(readDeploymentFile(file)).toEqual(sample);
  });

  test("default: watchedContracts lower-cases and sorts the addresses, from the earliest start block", () => {
    const watched = watchedContracts(sample);
    expect(watched.startBlock).toBe(2);
    expect(watched.addresses).toEqual(
      Object.values(sample.contracts)
        .map((c) => c.address.toLowerCase())
        .sort(),
    );
  });

  test("behavior: deploymentId depends on the chain, the registry and the start block hash, not on case", () => {
    const id = deploymentId(sample);
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(deploymentId({ ...sample, startBlockHash: `0x${"cd".repeat(32)}` })).not.toBe(id);
    expect(deploymentId({ ...sample, chainId: 1 })).not.toBe(id);
    const lower = sample.contracts.IdentityRegistry.address.toLowerCase() as Address;
    const contracts = { ...sample.contracts, IdentityRegistry: { address: lower, startBlock: 3 } };
    expect(deploymentId({ ...sample, contracts })).toBe(id);
  });

  test("error: a missing contract or a malformed address names the field", () => {
    const { VitalsMonitor: _, ...three } = sample.contracts;
    expect(() => parseDeployment({ ...sample, contracts: three }, "x.json")).toThrow(
      /contracts\.VitalsMonitor/,
    );
    const bad = { ...sample.contracts, VitalsMonitor: { address: "0x12", startBlock: 1 } };
    expect(() => parseDeployment({ ...sample, contracts: bad }, "x.json")).toThrow(DeploymentFileError);
  });
});
