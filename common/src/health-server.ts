import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.ts";

export type HealthCheck = () => Promise<{ ok: boolean; details?: Record<string, unknown> }>;

/**
 * A small HTTP server for operations: `GET /health` (200 when every check passes, 503 otherwise, with a
 * JSON body naming each check) and `GET /metrics` (Prometheus text format). Listens on 127.0.0.1 by default.
 */
export async function startHealthServer(options: {
  port: number;
  host?: string;
  metrics: Metrics;
  checks: Record<string, HealthCheck>;
}): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": options.metrics.registry.contentType });
        res.end(await options.metrics.text());
        return;
      }
      if (req.url === "/health" || req.url === "/healthz") {
        const results: Record<string, unknown> = {};
        let ok = true;
        for (const [name, check] of Object.entries(options.checks)) {
          try {
            const result = await check();
            results[name] = result;
            ok &&= result.ok;
          } catch (error) {
            ok = false;
            results[name] = { ok: false, error: error instanceof Error ? error.message : String(error) };
          }
        }
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok, checks: results }));
        return;
      }
      res.writeHead(404).end();
    } catch (error) {
      res.writeHead(500).end(error instanceof Error ? error.message : "error");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
