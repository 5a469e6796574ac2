// Serves the built page (dist/) and its runtime configuration (/config.json) on node:http. Any path that
// is not a file gets index.html (routes live in the hash, but a reload of /anything still works).
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { ConfigError } from "@carechain/common";
import type { RuntimeConfig } from "../runtime-config.ts";

export type WebServer = { url: string; port: number; close: () => Promise<void> };

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** What the page may load and connect to: itself, the gateway (HTTP and WebSocket) and the chain. */
export function contentSecurityPolicy(config: RuntimeConfig): string {
  const gateway = new URL(config.gatewayUrl);
  const ws = `${gateway.protocol === "https:" ? "wss:" : "ws:"}//${gateway.host}`;
  const connect = ["'self'", gateway.origin, ws, new URL(config.rpcUrl).origin].join(" ");
  return [
    "default-src 'self'",
    `connect-src ${connect}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");
}

export async function startWebServer(options: {
  distDir: string;
  config: RuntimeConfig;
  host?: string;
  /** 0: any free port. */
  port: number;
}): Promise<WebServer> {
  const { distDir, config } = options;
  const index = join(distDir, "index.html");
  if (!existsSync(index))
    throw new ConfigError(`No built page in ${distDir}: run \`npm run build -w @carechain/web\` first.`);
  const configBody = JSON.stringify(config);
  const headers = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": contentSecurityPolicy(config),
  };

  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { ...headers, "content-type": type, "cache-control": "no-store" });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, allow: "GET, HEAD" });
      res.end();
      return;
    }
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    if (path === "/health") return send(res, 200, "application/json", '{"ok":true}');
    if (path === "/config.json") return send(res, 200, "application/json", configBody);
    const file = normalize(join(distDir, path));
    const inside = file.startsWith(distDir.endsWith(sep) ? distDir : distDir + sep);
    const isFile = inside && existsSync(file) && statSync(file).isFile();
    if (!isFile && extname(path) !== "") return send(res, 404, "text/plain; charset=utf-8", "Not found\n");
    const served = isFile ? file : index;
    res.writeHead(200, {
      ...headers,
      "content-type": contentTypes[extname(served)] ?? "application/octet-stream",
      // Hashed assets never change; index.html must be fetched again to find the new ones.
      "cache-control": path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(served).pipe(res);
  };

  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) send(res, 400, "text/plain; charset=utf-8", "Bad request\n");
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
