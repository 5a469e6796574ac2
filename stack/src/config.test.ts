import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parseConfig, repoRoot } from "./config.ts";
import { ConfigError } from "./errors.ts";

function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("parseConfig accepted the environment");
}

describe("parseConfig", () => {
  test("default: nothing set starts every server on free ports with the cache in the repo", () => {
    expect(parseConfig({})).toEqual({
      cacheDir: join(repoRoot, ".cache"),
      rpcUrl: undefined,
      databaseUrl: undefined,
      kafkaBrokers: undefined,
      ports: { anvil: undefined, postgres: undefined, kafka: undefined },
      startTimeoutMs: 120_000,
    });
  });

  test("args: servers given by URL, fixed ports, a relative cache folder from the repo root", () => {
    const config = parseConfig({
      RPC_URL: "http://127.0.0.1:8545",
      DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db",
      KAFKA_PORT: "19092",
      CARECHAIN_CACHE_DIR: "tmp/cache",
      STACK_START_TIMEOUT_MS: "5000",
    });
    expect(config).toMatchObject({
      rpcUrl: "http://127.0.0.1:8545",
      databaseUrl: "postgresql://u:p@127.0.0.1:5432/db",
      kafkaBrokers: undefined,
      ports: { anvil: undefined, postgres: undefined, kafka: 19092 },
      cacheDir: join(repoRoot, "tmp", "cache"),
      startTimeoutMs: 5_000,
    });
  });

  test("args: KAFKA_BROKERS is a comma-separated list; empty variables count as unset", () => {
    const config = parseConfig({
      KAFKA_BROKERS: " 127.0.0.1:9092, kafka:9093 ",
      DATABASE_URL: "",
      ANVIL_PORT: "",
    });
    expect(config.kafkaBrokers).toEqual(["127.0.0.1:9092", "kafka:9093"]);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.ports.anvil).toBeUndefined();
  });

  test("error: every wrong variable is named with what it should be", () => {
    const error = configError({
      ANVIL_PORT: "eighty",
      POSTGRES_PORT: "70000",
      DATABASE_URL: "mysql://127.0.0.1/db",
      KAFKA_BROKERS: "127.0.0.1",
      RPC_URL: "not a url",
    });
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("ANVIL_PORT must be a port number");
    expect(error.message).toContain("POSTGRES_PORT must be between 1 and 65535");
    expect(error.message).toContain("DATABASE_URL must be a URL like postgres://");
    expect(error.message).toContain("KAFKA_BROKERS must be a comma-separated list of host:port");
    expect(error.message).toContain("RPC_URL must be a URL like http://");
  });

  test("error: a server given by URL and a port to start it on is a contradiction", () => {
    const error = configError({ KAFKA_BROKERS: "127.0.0.1:9092", KAFKA_PORT: "9092" });
    expect(error.message).toContain(
      "set KAFKA_BROKERS (use that server) or KAFKA_PORT (start one there), not both",
    );
  });

  test("error: a start-up timeout under a second is refused", () => {
    expect(configError({ STACK_START_TIMEOUT_MS: "10" }).message).toContain(
      "STACK_START_TIMEOUT_MS must be at least 1000",
    );
  });
});
