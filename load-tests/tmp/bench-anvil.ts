import { identityRegistryAbi } from "@carechain/contracts/abis";
import { identityRegistryBytecode } from "@carechain/contracts/artifacts";
import { concat, encodeDeployData, encodeFunctionData, keccak256, pad, toHex } from "viem";
import { JsonRpc } from "../src/rpc.ts";

const rpc = new JsonRpc(process.argv[2] ?? "http://127.0.0.1:18545");
const deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const hash = await rpc.call<string>("eth_sendTransaction", [
  {
    from: deployer,
    data: encodeDeployData({ abi: identityRegistryAbi, bytecode: identityRegistryBytecode }),
  },
]);
let receipt: any = null;
while (!receipt) {
  receipt = await rpc.call("eth_getTransactionReceipt", [hash]);
}
const registry = receipt.contractAddress;
const N = Number(process.argv[3] ?? 2000);
const mode = process.argv[4] ?? "auto";
const addrs = Array.from({ length: N }, (_, i) => `0x${keccak256(toHex(`acct${i}${Date.now()}`)).slice(26)}`);
let t = performance.now();
await rpc.batchAll(
  addrs.map((a) => ({ method: "anvil_setBalance", params: [a, "0x56bc75e2d63100000"] })),
  { batchSize: 500 },
);
await rpc.batchAll(
  addrs.map((a) => ({ method: "anvil_impersonateAccount", params: [a] })),
  { batchSize: 500 },
);
console.log("fund+impersonate", (performance.now() - t).toFixed(0), "ms");
if (mode === "manual") await rpc.call("evm_setAutomine", [false]);
t = performance.now();
const calls = addrs.map((a, i) => ({
  method: "eth_sendTransaction",
  params: [
    {
      from: a,
      to: registry,
      gas: "0x30000",
      nonce: "0x0",
      data: encodeFunctionData({
        abi: identityRegistryAbi,
        functionName: "registerPatient",
        args: [keccak256(toHex(i)), keccak256(toHex(i + 1))],
      }),
    },
  ],
}));
const res = await rpc.batchAll(calls, {
  batchSize: Number(process.argv[5] ?? 100),
  concurrency: Number(process.argv[6] ?? 4),
});
const errs = res.filter((r) => r.error);
if (mode === "auto") {
  while (true) {
    const st = await rpc.call<{ pending: string }>("txpool_status");
    if (Number(st.pending) === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
}
console.log("sent", N, "in", (performance.now() - t).toFixed(0), "ms; errors", errs.length, errs[0]?.error);
if (mode === "manual") {
  const t2 = performance.now();
  let blocks = 0;
  while (true) {
    const pending = await rpc.call<{ pending: Record<string, unknown> }>("txpool_content", []);
    const n = Object.keys(pending.pending).length;
    if (n === 0) break;
    await rpc.call("evm_mine", []);
    blocks++;
  }
  console.log("mined", blocks, "blocks in", (performance.now() - t2).toFixed(0), "ms");
  await rpc.call("evm_setAutomine", [true]);
}
console.log(
  "total tx/s",
  (N / ((performance.now() - t) / 1000)).toFixed(0),
  "block",
  await rpc.call("eth_blockNumber"),
);
