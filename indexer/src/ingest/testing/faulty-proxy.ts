/**
 * A loopback JSON-RPC proxy in front of a node that fails about half of the requests, in every way an RPC
 * provider fails: HTTP 503, a JSON-RPC internal error, a dropped connection, an answer too slow for the
 * client's timeout, and eth_getLogs ranges refused as too large. Bounded: it only listens on 127.0.0.1,
 * forwards to one upstream, and closes with the test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FaultyProxy = { url: string; stats: Record<string, number>; close(): Promise<void> };

export async function startFaultyProxy(
  upstream: string,
  options: { failureRate?: number; slowMs?: number; maxLogsRange?: number; seed?: number } = {},
): Promise<FaultyProxy> {
  const failureRate = options.failureRate ?? 0.5;
  const stats: Record<string, number> = {
    forwarded: 0,
    http503: 0,
    rpcError: 0,
    dropped: 0,
    slow: 0,
    refused: 0,
  };
  let state = options.seed ?? 42;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648; // deterministic: the same faults every run
    return state / 2_147_483_648;
  };
  const timers = new Set<NodeJS.Timeout>();
  let failures = 0;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const calls = [JSON.parse(body)].flat() as { id: number; method: string; params: unknown[] }[];
    const tooWide = calls.some(
      (call) => call.method === "eth_getLogs" && logsRange(call.params) > (options.maxLogsRange ?? 20),
    );
    if (tooWide) {
      stats.refused!++;
      return answer(res, body, calls, { code: -32005, message: "query returned more than 10000 results" });
    }
    if (random() < failureRate) {
      // The kinds of failure take turns, so that a short test meets every one; slow answers (which cost
      // the client its whole timeout) come once in eight.
      const mode = [0, 1, 2, 0, 1, 2, 0, 3][failures++ % 8]!;
      if (mode === 0) {
        stats.http503!++;
        return res.writeHead(503).end("busy");
      }
      if (mode === 1) {
        stats.rpcError!++;
        return answer(res, body, calls, { code: -32603, message: "internal error" });
      }
      if (mode === 2) {
        stats.dropped!++;
        return req.socket.destroy();
      }
      stats.slow!++;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.writableEnded) res.writeHead(503).end("too late");
      }, options.slowMs ?? 1_500);
      timers.add(timer);
      return;
    }
    stats.forwarded!++;
    try {
      const response = await fetch(upstream, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      res.writeHead(response.status, { "content-type": "application/json" }).end(await response.text());
    } catch {
      res.writeHead(502).end("upstream failed");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answer(
  res: ServerResponse,
  body: string,
  calls: { id: number }[],
  error: { code: number; message: string },
) {
  const errors = calls.map((call) => ({ jsonrpc: "2.0", id: call.id, error }));
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify(body.trimStart().startsWith("[") ? errors : errors[0]));
}

function logsRange(params: unknown[]): number {
  const filter = params[0] as { fromBlock?: string; toBlock?: string; blockHash?: string };
  if (filter.blockHash || !filter.fromBlock || !filter.toBlock) return 0;
  return Number(BigInt(filter.toBlock) - BigInt(filter.fromBlock)) + 1;
}
