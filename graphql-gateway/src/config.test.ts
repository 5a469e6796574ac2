import { ConfigError } from "@carechain/common";
import { describe, expect, test } from "vitest";
import { gatewayEnvironment, optionsFromEnv } from "./config.ts";

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

describe("gatewayEnvironment", () => {
  test("default", () => {
    expect(gatewayEnvironment({ ...minimal, GATEWAY_PORT: 0, SUBGRAPH_HOST: undefined })).toEqual({
      ...minimal,
      GATEWAY_PORT: "0",
    });
  });

  test("error: a variable the gateway does not read is a type error, a bad value a ConfigError", () => {
    // @ts-expect-error KAFKA_BROKERS is not the gateway's
    gatewayEnvironment({ ...minimal, KAFKA_BROKERS: "127.0.0.1:9092" });
    expect(() => gatewayEnvironment({ ...minimal, GATEWAY_PORT: 70_000 })).toThrow(/GATEWAY_PORT/);
  });
});
