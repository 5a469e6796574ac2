import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { optionsFromEnv } from "./main.ts";

const minimal = {
  DATABASE_URL: "postgres://carechain@127.0.0.1:5432/carechain",
  KAFKA_BROKERS: "127.0.0.1:9092, 127.0.0.1:9093",
  JWT_SECRET: "0123456789abcdef0123456789abcdef",
};

describe("optionsFromEnv", () => {
  test("default", () => {
    const options = optionsFromEnv(minimal);
    expect(options).toMatchObject({
      kafkaBrokers: ["127.0.0.1:9092", "127.0.0.1:9093"],
      kafkaTopicPrefix: "carechain",
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
    });
    expect(options).toMatchObject({
      port: 8080,
      siweDomain: "app.carechain.example",
      chainId: 11155111,
      projectionSchema: "carechain_views",
      subgraphUrls: { records: "http://records.internal:4002/graphql" },
      limits: { maxPageSize: 50 },
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
    expect(message).toMatch(/KAFKA_BROKERS/);
    expect(message).toMatch(/JWT_SECRET: at least 32 characters; generate one with `openssl rand -hex 32`/);
    expect(message).toMatch(/GATEWAY_PORT/);
  });
});

describe("entry point", () => {
  test("behavior: `main.ts all` serves the gateway and stops cleanly on SIGTERM", async () => {
    const { spawn } = await import("node:child_process");
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { createTestSchema, getStack } = await import("@carechain/stack/testing");
    const { composeSupergraph } = await import("./gateway/compose.ts");
    const { ourSubgraphs } = await import("./subgraphs/index.ts");
    const { createDatabase } = await import("./database/pool.ts");

    const schema = await createTestSchema("gateway_main");
    const db = createDatabase({
      url: getStack().databaseUrl,
      projectionSchema: schema.schema,
      gatewaySchema: schema.schema,
    });
    const dir = await mkdtemp(join(tmpdir(), "gateway-main-"));
    try {
      // The projections the process reads (the projector's migration) and a supergraph file.
      const { readFile } = await import("node:fs/promises");
      const { upMigrationSql } = await import("./database/migrate.ts");
      const sql = upMigrationSql(
        await readFile(
          new URL("../../indexer/src/database/migrations/1732400000000_projections.sql", import.meta.url),
          "utf8",
        ),
      );
      await db.query(`SET search_path TO ${db.projection}; ${sql}`);
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
            KAFKA_BROKERS: getStack().kafkaBrokers.join(","),
            KAFKA_TOPIC_PREFIX: `main-${schema.schema}`,
            JWT_SECRET: "0123456789abcdef0123456789abcdef",
            PROJECTION_SCHEMA: schema.schema,
            GATEWAY_SCHEMA: schema.schema,
            GATEWAY_PORT: "0",
            IDENTITY_PORT: "0",
            RECORDS_PORT: "0",
            VITALS_PORT: "0",
            SUPERGRAPH_PATH: supergraphPath,
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      const listening = new Promise<string>((resolve, reject) => {
        child.stderr!.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"gateway listening"/.exec(stderr);
          if (match) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`main.ts exited with ${code}:\n${stderr}`)));
      });
      const url = await listening;
      // The events topic does not exist: queries work, subscriptions are reported as not running.
      const health = await fetch(url.replace(/\/graphql$/, "/health"));
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({
        ok: true,
        checks: { database: { ok: true }, subscriptions: { ok: false } },
      });
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ me { role } doctors { edges { cursor } } }" }),
      });
      expect(await response.json()).toEqual({ data: { me: { role: "ANONYMOUS" }, doctors: { edges: [] } } });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      await db.close();
      await schema.drop();
    }
  });
});
