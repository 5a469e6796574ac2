import { deployCareChain } from "/work/main/contracts/ts/deploy.ts";
const t = Date.now();
const d = await deployCareChain({ rpcUrl: process.env.RPC_URL!, privateKey: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", deploymentsDir: "/tmp/deps" });
console.log(d, Date.now() - t, "ms");
