/**
 * Deploys the CareChain contracts and writes deployments/<chainId>.json.
 *
 *   RPC_URL               default http://127.0.0.1:8545
 *   DEPLOYER_PRIVATE_KEY  default anvil's account 0 (a well-known test key: never on a real network)
 *   DEPLOYMENTS_DIR       default contracts/deployments
 */
// Scripts run like every CareChain entry point (the contracts library itself depends on nothing of ours).
import { parseConfig, runMain } from "@carechain/common";
import { z } from "zod";
import { deployCareChain } from "../ts/deploy.ts";
import { defaultDeploymentsDir } from "../ts/deployment.ts";

const ANVIL_KEY_0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

const envSchema = z.object({
  RPC_URL: z.url().default("http://127.0.0.1:8545"),
  DEPLOYER_PRIVATE_KEY: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "a 0x-prefixed 32-byte hex private key")
    .default(ANVIL_KEY_0)
    .transform((key) => key as `0x${string}`),
  DEPLOYMENTS_DIR: z.string().min(1).default(defaultDeploymentsDir),
});

runMain(
  async (ctx) => {
    const env = parseConfig(envSchema, ctx.env, "deploy");
    const started = Date.now();
    const result = await deployCareChain({
      rpcUrl: env.RPC_URL,
      privateKey: env.DEPLOYER_PRIVATE_KEY,
      deploymentsDir: env.DEPLOYMENTS_DIR,
    });
    console.log(`[deploy] chain ${result.chainId} via ${env.RPC_URL}, admin ${result.admin}`);
    for (const [name, contract] of Object.entries(result.contracts)) {
      console.log(`[deploy]   ${name.padEnd(16)} ${contract.address}  block ${contract.startBlock}`);
    }
    console.log(`[deploy] wrote ${result.file} in ${Date.now() - started} ms`);
    return 0;
  },
  { entry: import.meta.url },
);
