import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@carechain/common";
import { defaultDeploymentsDir } from "@carechain/contracts";
import { anvilAccounts } from "@carechain/stack";
import { describe, expect, test } from "vitest";
import { jwtSecretFor, loadSystemConfig } from "./config.ts";

describe("loadSystemConfig", () => {
  test("default: every setting has a working default", () => {
    const config = loadSystemConfig({ CARECHAIN_CACHE_DIR: "/tmp/cc-cache" });
    expect(config).toMatchObject({
      stateDir: "/tmp/cc-cache/system",
      dataDir: "/tmp/cc-cache/system/data",
      reset: false,
      demo: "auto",
      names: {
        topicPrefix: "carechain",
        groupId: "carechain-projector",
        projectionSchemaBase: "carechain",
        gatewaySchema: "gateway",
      },
      ports: {
        gateway: 4000,
        identity: 4001,
        records: 4002,
        vitals: 4003,
        ingestHealth: 9464,
        projectorHealth: 9465,
      },
      deployerKey: anvilAccounts[0]!.privateKey,
      deploymentsDir: defaultDeploymentsDir,
      jwtSecret: undefined,
    });
    expect(config.stack).toMatchObject({
      rpcUrl: undefined,
      databaseUrl: undefined,
      kafkaBrokers: undefined,
    });
  });

  test("args: the restart policy: defaults (0.5 s doubling to 30 s, give up at 5 crashes in 2 min) and overrides", () => {
    expect(loadSystemConfig({}).restart).toEqual({
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      resetAfterMs: 60_000,
      maxCrashes: 5,
      windowMs: 120_000,
    });
    const config = loadSystemConfig({
      RESTART_DELAY_MS: "2000",
      RESTART_MAX_DELAY_MS: "1000", // below the first delay: the first delay is the cap
      RESTART_MAX_CRASHES: "1",
      RESTART_WINDOW_MS: "600000",
    });
    expect(config.restart).toMatchObject({
      initialDelayMs: 2_000,
      maxDelayMs: 2_000,
      maxCrashes: 1,
      windowMs: 600_000,
    });
    expect(() => loadSystemConfig({ RESTART_MAX_CRASHES: "0" })).toThrow(ConfigError);
  });

  test("args: real infrastructure, names, ports and flags from the environment and the command line", () => {
    const config = loadSystemConfig(
      {
        RPC_URL: "https://rpc.example.org",
        DATABASE_URL: "postgres://u:p@db.example.org:5432/carechain",
        KAFKA_BROKERS: "k1:9092,k2:9092",
        GATEWAY_PORT: "8080",
        KAFKA_TOPIC_PREFIX: "prod",
        PROJECTION_SCHEMA_BASE: "cc",
        JWT_SECRET: "x".repeat(40),
        CARECHAIN_DEMO: "1",
      },
      ["--reset", "--no-demo"],
    );
    expect(config.stack).toMatchObject({
      rpcUrl: "https://rpc.example.org",
      databaseUrl: "postgres://u:p@db.example.org:5432/carechain",
      kafkaBrokers: ["k1:9092", "k2:9092"],
    });
    expect(config).toMatchObject({
      reset: true,
      demo: false,
      ports: { gateway: 8080 },
      names: { topicPrefix: "prod", projectionSchemaBase: "cc" },
      jwtSecret: "x".repeat(40),
    });
    expect(loadSystemConfig({ CARECHAIN_RESET: "1" }).reset).toBe(true);
  });

  test("error: each wrong variable is named with what to set", () => {
    const error = (() => {
      try {
        loadSystemConfig({ GATEWAY_PORT: "http", JWT_SECRET: "short", PROJECTION_SCHEMA_BASE: "Bad-Name" });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/GATEWAY_PORT/);
    expect(message).toMatch(/JWT_SECRET: at least 32 characters/);
    expect(message).toMatch(/PROJECTION_SCHEMA_BASE/);
    expect(() => loadSystemConfig({}, ["--wipe"])).toThrow(/Unknown argument --wipe/);
  });
});

describe("jwtSecretFor", () => {
  test("behavior: generated once, kept with mode 600, the same on the next start; JWT_SECRET wins", () => {
    const stateDir = mkdtempSync(join(tmpdir(), "cc-system-"));
    try {
      const first = jwtSecretFor({ jwtSecret: undefined, stateDir });
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(jwtSecretFor({ jwtSecret: undefined, stateDir })).toBe(first);
      expect(readFileSync(join(stateDir, "jwt-secret"), "utf8").trim()).toBe(first);
      expect(statSync(join(stateDir, "jwt-secret")).mode & 0o777).toBe(0o600);
      expect(jwtSecretFor({ jwtSecret: "y".repeat(32), stateDir })).toBe("y".repeat(32));
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
