import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { RuntimeConfig } from "../runtime-config.ts";
import { parseWebEnv } from "./config.ts";
import { startWebServer, type WebServer } from "./serve.ts";

const config: RuntimeConfig = {
  gatewayUrl: "http://127.0.0.1:4000",
  rpcUrl: "http://127.0.0.1:8545",
  chainId: 31337,
  chainName: "CareChain local (anvil)",
  contracts: {
    identityRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    consentManager: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
    recordRegistry: "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
    vitalsMonitor: "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9",
  },
};

let dist: string;
let server: WebServer;

beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), "web-dist-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), "<!doctype html><title>CareChain</title>");
  writeFileSync(join(dist, "assets", "app-1234.js"), "console.log(1)");
  writeFileSync(join(dist, "..", "secret.txt"), "outside");
  server = await startWebServer({ distDir: dist, config, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dist, { recursive: true, force: true });
  rmSync(join(dist, "..", "secret.txt"), { force: true });
});

describe("web server", () => {
  test("default: serves the page, its assets, /config.json and /health", async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self' http://127.0.0.1:4000");
    expect(await page.text()).toContain("<title>CareChain</title>");

    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(asset.headers.get("content-type")).toContain("text/javascript");

    const served = await fetch(`${server.url}/config.json`);
    expect(served.headers.get("cache-control")).toBe("no-store");
    expect(await served.json()).toEqual(config);
    expect(await (await fetch(`${server.url}/health`)).json()).toEqual({ ok: true });
  });

  test("behavior: a route that is not a file gets the page, a missing asset 404", async () => {
    expect(await (await fetch(`${server.url}/patient/0xabc`)).text()).toContain("CareChain");
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);
  });

  test("error: nothing outside dist is served", async () => {
    const answer = await fetch(`${server.url}/..%2Fsecret.txt`);
    expect(answer.status).toBe(404);
    expect(await answer.text()).not.toContain("outside");
    expect((await fetch(`${server.url}/`, { method: "POST" })).status).toBe(405);
  });

  test("error: no build gives a configuration error that says what to run", async () => {
    await expect(startWebServer({ distDir: join(dist, "nope"), config, port: 0 })).rejects.toThrow(
      /npm run build -w @carechain\/web/,
    );
  });
});

describe("web environment", () => {
  test("default: defaults and the gateway URL without /graphql", () => {
    const env = parseWebEnv({
      GATEWAY_URL: "http://127.0.0.1:4000/graphql",
      RPC_URL: "http://127.0.0.1:8545",
    });
    expect(env).toMatchObject({ WEB_HOST: "127.0.0.1", WEB_PORT: 3000, CHAIN_ID: 31337 });
    expect(env.GATEWAY_URL).toBe("http://127.0.0.1:4000");
  });

  test("error: a missing or bad variable is named", () => {
    expect(() => parseWebEnv({ RPC_URL: "ws://x" })).toThrow(/GATEWAY_URL[\s\S]*RPC_URL/);
  });
});
