import { writeFileSync } from "node:fs";
import { parseConfig, startStack } from "@carechain/stack";
const stack = await startStack({ ...parseConfig(process.env), dataDir: "/tmp/lt/stack", stopTimeoutMs: 10_000 });
writeFileSync("/tmp/lt/endpoints.json", JSON.stringify(stack.endpoints));
console.log("ready", JSON.stringify(stack.endpoints));
for (const s of ["SIGINT", "SIGTERM"] as const) process.on(s, () => void stack.stop().then(() => process.exit(0)));
setInterval(() => {}, 1 << 30);
