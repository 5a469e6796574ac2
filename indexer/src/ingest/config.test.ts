import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { ingestEnvironment, ingestOptionsFromEnv } from "./config.ts";

const minimal = {
  RPC_URL: "http://127.0.0.1:8545",
  KAFKA_BROKERS: "127.0.0.1:9092",
  DEPLOYMENTS_DIR: "contracts/deployments",
};

describe("ingest config", () => {
  test("default: the minimal environment gets local defaults", () => {
    const { options, logLevel } = ingestOptionsFromEnv(minimal);
    expect(options).toMatchObject({
      rpcUrl: "http://127.0.0.1:8545",
      contracts: { dir: "contracts/deployments" },
      kafka: { brokers: ["127.0.0.1:9092"], topicPrefix: "carechain", partitions: 3 },
      confirmations: 0,
      maxBlockRange: 2_000,
      healthPort: 9464,
    });
    expect(options.chainId).toBeUndefined();
    expect(logLevel).toBe("info");
  });

  test("args: every variable is read and coerced", () => {
    const env = {
      ...minimal,
      CHAIN_ID: "31337",
      DEPLOYMENT_FILE: "deployments/31337.json",
      KAFKA_BROKERS: "a:1,b:2",
      KAFKA_TOPIC_PREFIX: "test.x",
      CONFIRMATIONS: "12",
      POLL_INTERVAL_MS: "250",
      MAX_BLOCK_RANGE: "500",
      INGEST_HEALTH_PORT: "0",
      LOG_LEVEL: "warn",
    };
    const { options, logLevel } = ingestOptionsFromEnv(env);
    expect(options).toMatchObject({
      chainId: 31337,
      contracts: { file: "deployments/31337.json" },
      kafka: { brokers: ["a:1", "b:2"], topicPrefix: "test.x" },
      confirmations: 12,
      pollIntervalMs: 250,
      maxBlockRange: 500,
      healthPort: 0,
    });
    expect(logLevel).toBe("warn");
  });

  test("args: ingestEnvironment writes typed values as the variables ingest reads back", () => {
    const env = ingestEnvironment({
      ...minimal,
      CHAIN_ID: 31337,
      INGEST_HEALTH_PORT: 0,
      LOG_LEVEL: undefined,
    });
    expect(env).toEqual({ ...minimal, CHAIN_ID: "31337", INGEST_HEALTH_PORT: "0" });
    expect(ingestOptionsFromEnv(env).options).toMatchObject({ chainId: 31337, healthPort: 0 });
  });

  test("error: missing and invalid variables are all named, with what to set", () => {
    let error: unknown;
    try {
      ingestOptionsFromEnv({ KAFKA_BROKERS: "nope", CONFIRMATIONS: "-1" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ["RPC_URL", "KAFKA_BROKERS", "CONFIRMATIONS", "DEPLOYMENT_FILE"])
      expect(message).toContain(name);
    expect(message).toContain("DEPLOYMENTS_DIR");
    // The environment builder refuses the same values before any process starts.
    expect(() => ingestEnvironment({ ...minimal, INGEST_HEALTH_PORT: 70_000 })).toThrow(/INGEST_HEALTH_PORT/);
  });
});
