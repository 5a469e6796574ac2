import { createTestClient, createPublicClient, http } from "viem";
const rpc = process.env.RPC_URL!;
const pc = createPublicClient({ transport: http(rpc) });
const tc = createTestClient({ mode: "anvil", transport: http(rpc) });
for (let i = 0; i < 30; i++) await tc.mine({ blocks: 1 });
const n = await pc.getBlockNumber();
const ts = [];
for (let i = 29; i >= 0; i--) ts.push((await pc.getBlock({ blockNumber: n - BigInt(i) })).timestamp);
console.log(ts.join(" "), Math.floor(Date.now() / 1000));
