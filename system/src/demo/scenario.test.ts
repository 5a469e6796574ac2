// The demo on the test run's anvil, against a deployment of its own (contract state is per deployment, so the
// well-known demo accounts can be registered here whatever other deployments on this chain hold).
import { deployCareChain, identityRegistryAbi, vitalsMonitorAbi } from "@carechain/contracts";
import { getStack } from "@carechain/stack/testing";
import { createPublicClient, createTestClient, http, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { describe, expect, test } from "vitest";
import { demoAccounts } from "./accounts.ts";
import { seedDemo } from "./scenario.ts";

describe("seedDemo", () => {
  test("behavior: seeds the whole story once; a second run sends nothing", async () => {
    const { rpcUrl } = getStack();
    const adminKey = generatePrivateKey();
    await createTestClient({ mode: "anvil", transport: http(rpcUrl) }).setBalance({
      address: privateKeyToAccount(adminKey).address,
      value: parseEther("10"),
    });
    const deployment = await deployCareChain({ rpcUrl, privateKey: adminKey, deploymentsDir: false });

    const first = await seedDemo({ rpcUrl, deployment, adminKey });
    expect(first.transactions).toBe(26);
    const again = await seedDemo({ rpcUrl, deployment, adminKey });
    expect(again.transactions).toBe(0);

    const client = createPublicClient({ transport: http(rpcUrl) });
    const identity = {
      address: deployment.contracts.IdentityRegistry.address,
      abi: identityRegistryAbi,
    } as const;
    expect(
      await client.readContract({
        ...identity,
        functionName: "isRegistrar",
        args: [demoAccounts.stMary.address],
      }),
    ).toBe(true);
    expect(
      await client.readContract({
        ...identity,
        functionName: "isVerifiedDoctor",
        args: [demoAccounts.drGrey.address],
      }),
    ).toBe(true);
    const alerts = await client.getContractEvents({
      address: deployment.contracts.VitalsMonitor.address,
      abi: vitalsMonitorAbi,
      eventName: "VitalsAlert",
      fromBlock: BigInt(deployment.startBlock),
    });
    expect(alerts.map((alert) => [alert.args.systolic, alert.args.diastolic])).toEqual([
      [168, 102],
      [85, 55],
    ]);
    expect(alerts[0]?.args.recipients).toEqual([demoAccounts.drHouse.address, demoAccounts.stMary.address]);
  });
});
