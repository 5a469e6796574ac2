// Child process of delivery.bench.ts: `count` webhook receivers on 127.0.0.1, in a process of their own so
// that they do not share the delivery service's event loop (as real subscribers would not). Answers 200 and
// keeps (webhook-id, time received, receiver index); the parent asks over IPC.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

const count = Number(process.argv[2] ?? 100);
const received: [string, number, number][] = [];
const ports: number[] = [];
for (let i = 0; i < count; i++) {
  const index = i;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push([String(req.headers["webhook-id"]), Date.now(), index]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  ports.push((server.address() as AddressInfo).port);
}
process.send!({ ports });
// The bench gone (finished, killed): so are its receivers.
process.on("disconnect", () => process.exit(0));
process.on("message", (message) => {
  if (message === "count") process.send!({ count: received.length });
  else if (message === "dump") process.send!({ received });
  else if (message === "exit") process.exit(0);
});
