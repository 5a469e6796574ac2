import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { optionsFromEnv } from "./main.ts";

const minimal = {
  DATABASE_URL: "postgres://carechain@127.0.0.1:5432/carechain",
  JWT_SECRET: "0123456789abcdef0123456789abcdef",
};

describe("optionsFromEnv", () => {
  test("default", () => {
    const options = optionsFromEnv(minimal);
    expect(options).toMatchObject({
      port: 4000,
      projectionSchema: "carechain",
      gatewaySchema: "gateway",
      siweDomain: "localhost:4000",
      siweUri: "http://localhost:4000",
      chainId: 31337,
      jwtTtlSeconds: 900,
      subgraphPorts: { identity: 4001, records: 4002, vitals: 4003 },
      subgraphUrls: {},
      limits: { maxDepth: 10, maxCost: 20000, maxPageSize: 100 },
      metrics: { host: "127.0.0.1", port: 9466 },
    });
    // The subgraph secret is derived from the JWT secret unless set, never equal to it.
    expect(options.subgraphSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(options.subgraphSecret).not.toBe(minimal.JWT_SECRET);
  });

  test("args: every variable can be set", () => {
    const options = optionsFromEnv({
      ...minimal,
      GATEWAY_PORT: "8080",
      SIWE_DOMAIN: "app.carechain.example",
      SIWE_URI: "https://app.carechain.example",
      CHAIN_ID: "11155111",
      PROJECTION_SCHEMA: "carechain_views",
      RECORDS_URL: "http://records.internal:4002/graphql",
      MAX_PAGE_SIZE: "50",
      METRICS_HOST: "0.0.0.0",
      METRICS_PORT: "9100",
    });
    expect(options).toMatchObject({
      port: 8080,
      siweDomain: "app.carechain.example",
      chainId: 11155111,
      projectionSchema: "carechain_views",
      subgraphUrls: { records: "http://records.internal:4002/graphql" },
      limits: { maxPageSize: 50 },
      metrics: { host: "0.0.0.0", port: 9100 },
    });
  });

  test("error: missing and invalid variables say what to set", () => {
    let error: unknown;
    try {
      optionsFromEnv({ JWT_SECRET: "short", GATEWAY_PORT: "http" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/DATABASE_URL: .*it is not set/);
    expect(message).toMatch(/JWT_SECRET: at least 32 characters; generate one with `openssl rand -hex 32`/);
    expect(message).toMatch(/GATEWAY_PORT/);
  });
});

describe("entry point", () => {
  test("behavior: `main.ts all` serves the gateway, metrics on the operator port only, and stops on SIGTERM", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createTestSchema, getStack } = await import("@carechain/stack/testing");
    const { composeSupergraph } = await import("./gateway/compose.ts");
    const { ourSubgraphs } = await import("./subgraphs/index.ts");
    const { createDatabase } = await import("./database/pool.ts");
    const { createProjectionTables } = await import("./testing/fixtures.ts");

    const schema = await createTestSchema("gateway_main");
    const db = createDatabase({
      url: getStack().databaseUrl,
      projectionSchema: schema.schema,
      gatewaySchema: schema.schema,
    });
    const dir = await mkdtemp(join(tmpdir(), "gateway-main-"));
    try {
      // The projections the process reads (the projector's migrations) and a supergraph file.
      await createProjectionTables(db);
      const supergraphPath = join(dir, "supergraph.graphql");
      await writeFile(
        supergraphPath,
        composeSupergraph(
          Object.values(ourSubgraphs).map((s) => ({
            name: s.name,
            typeDefs: s.typeDefs,
            url: "http://127.0.0.1:1/graphql",
          })),
        ),
      );
      const child = spawn(
        process.execPath,
        ["--import", "tsx", new URL("./main.ts", import.meta.url).pathname, "all"],
        {
          env: {
            ...process.env,
            DATABASE_URL: getStack().databaseUrl,
            JWT_SECRET: "0123456789abcdef0123456789abcdef",
            PROJECTION_SCHEMA: schema.schema,
            GATEWAY_SCHEMA: schema.schema,
            GATEWAY_PORT: "0",
            IDENTITY_PORT: "0",
            RECORDS_PORT: "0",
            VITALS_PORT: "0",
            SUPERGRAPH_PATH: supergraphPath,
            METRICS_PORT: "0",
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      const logged = (pattern: RegExp) =>
        new Promise<string>((resolve, reject) => {
          const look = () => {
            const match = pattern.exec(stderr);
            if (match) resolve(match[1]!);
          };
          child.stderr!.on("data", look);
          look();
          child.once("exit", (code) => reject(new Error(`main.ts exited with ${code}:\n${stderr}`)));
        });
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [url, operatorUrl] = await Promise.all([
        logged(/"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"gateway listening"/),
        logged(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"health and metrics server listening"/),
      ]);
      const publicUrl = url.replace(/\/graphql$/, "");
      expect(operatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(operatorUrl).not.toBe(publicUrl);
      // The public port: a bare health answer, no metrics.
      const health = await fetch(`${publicUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const publicMetrics = await fetch(`${publicUrl}/metrics`);
      expect(publicMetrics.status).toBe(404);
      expect(await publicMetrics.text()).not.toMatch(/carechain_/);
      // The operator port: the checks (the database, and the event feed once it has read it) and metrics.
      let detailed = await fetch(`${operatorUrl}/health`);
      for (let attempt = 0; detailed.status !== 200 && attempt < 100; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        detailed = await fetch(`${operatorUrl}/health`);
      }
      expect(await detailed.json()).toEqual({
        ok: true,
        checks: { database: { ok: true }, subscriptions: { ok: true } },
      });
      // Without the feed's table, subscriptions cannot work: the operator's health says so.
      await db.query(`ALTER TABLE ${db.projection}.event_feed RENAME TO event_feed_away`);
      try {
        let down = await fetch(`${operatorUrl}/health`);
        for (let attempt = 0; down.status !== 503 && attempt < 100; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          down = await fetch(`${operatorUrl}/health`);
        }
        expect(await down.json()).toEqual({
          ok: false,
          checks: { database: { ok: true }, subscriptions: { ok: false } },
        });
      } finally {
        await db.query(`ALTER TABLE ${db.projection}.event_feed_away RENAME TO event_feed`);
      }
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ me { role } doctors { edges { cursor } } }" }),
      });
      expect(await response.json()).toEqual({ data: { me: { role: "ANONYMOUS" }, doctors: { edges: [] } } });
      const metrics = await fetch(`${operatorUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/carechain_gateway_requests_total\{/);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      await db.close();
      await schema.drop();
    }
  });
});
