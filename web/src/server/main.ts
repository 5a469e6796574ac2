// The web server's entry point: parses its environment once, reads the deployment's addresses and serves
// the page with its /config.json until a signal.
import { ConfigError, runMain } from "@carechain/common";
import { readDeployment, readDeploymentFile } from "@carechain/contracts";
import type { RuntimeConfig } from "../runtime-config.ts";
import { parseWebEnv } from "./config.ts";
import { startWebServer } from "./serve.ts";

runMain(
  async ({ env, onStop }) => {
    const options = parseWebEnv(env);
    let deployment: ReturnType<typeof readDeploymentFile>;
    try {
      deployment = options.DEPLOYMENT_FILE
        ? readDeploymentFile(options.DEPLOYMENT_FILE)
        : readDeployment(options.CHAIN_ID);
    } catch (error) {
      throw new ConfigError(
        `No deployment for chain ${options.CHAIN_ID}: set DEPLOYMENT_FILE, or deploy (npm start does).`,
        { details: (error as Error).message },
      );
    }
    if (deployment.chainId !== options.CHAIN_ID)
      throw new ConfigError(
        `DEPLOYMENT_FILE is for chain ${deployment.chainId}, but CHAIN_ID is ${options.CHAIN_ID}.`,
      );
    const config: RuntimeConfig = {
      gatewayUrl: options.GATEWAY_URL,
      rpcUrl: options.RPC_URL,
      chainId: options.CHAIN_ID,
      chainName:
        options.CHAIN_NAME ??
        (options.CHAIN_ID === 31_337 ? "CareChain local (anvil)" : `CareChain ${options.CHAIN_ID}`),
      contracts: {
        identityRegistry: deployment.contracts.IdentityRegistry.address,
        consentManager: deployment.contracts.ConsentManager.address,
        recordRegistry: deployment.contracts.RecordRegistry.address,
        vitalsMonitor: deployment.contracts.VitalsMonitor.address,
      },
    };
    const server = await startWebServer({
      distDir: options.WEB_DIST_DIR,
      config,
      host: options.WEB_HOST,
      port: options.WEB_PORT,
    });
    onStop(() => server.close());
    console.log(`web listening on ${server.url}`);
  },
  { entry: import.meta.url },
);
