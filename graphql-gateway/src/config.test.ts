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

describe("optionsFromEnv: the document store", () => {
  test("default: no store, no document endpoints; DOCUMENTS_DIR turns on the filesystem store", () => {
    expect(optionsFromEnv(minimal).documents).toBeUndefined();
    expect(optionsFromEnv({ ...minimal, DOCUMENTS_DIR: "/var/lib/carechain/documents" }).documents).toEqual({
      maxBytes: 256 * 1024 * 1024,
      store: { kind: "fs", dir: "/var/lib/carechain/documents" },
    });
    // docker-compose.yml passes the S3 variables through as "" when they are not set: the same as unset.
    const compose = { S3_BUCKET: "", S3_ENDPOINT: "", S3_REGION: "", S3_PREFIX: "", S3_ACCESS_KEY_ID: "" };
    expect(
      optionsFromEnv({ ...minimal, ...compose, DOCUMENTS_DIR: "/data/documents" }).documents?.store,
    ).toEqual({
      kind: "fs",
      dir: "/data/documents",
    });
  });

  test("args: S3_* switch the same gateway to an S3-compatible store, whatever DOCUMENTS_DIR says", () => {
    const options = optionsFromEnv({
      ...minimal,
      DOCUMENTS_DIR: "/var/lib/carechain/documents",
      DOCUMENTS_MAX_BYTES: "1048576",
      S3_BUCKET: "carechain-documents",
      S3_ENDPOINT: "http://minio:9000",
      S3_PREFIX: "documents/",
      S3_ACCESS_KEY_ID: "minio",
      S3_SECRET_ACCESS_KEY: "minio-secret",
    });
    expect(options.documents).toEqual({
      maxBytes: 1048576,
      store: {
        kind: "s3",
        bucket: "carechain-documents",
        endpoint: "http://minio:9000",
        region: "us-east-1",
        prefix: "documents/",
        forcePathStyle: true,
        credentials: { accessKeyId: "minio", secretAccessKey: "minio-secret" },
      },
    });
    // AWS itself: no endpoint, virtual-hosted style, the SDK's credential chain.
    expect(
      optionsFromEnv({ ...minimal, S3_BUCKET: "records.example", S3_REGION: "eu-central-1" }).documents,
    ).toEqual({
      maxBytes: 256 * 1024 * 1024,
      store: {
        kind: "s3",
        bucket: "records.example",
        endpoint: undefined,
        region: "eu-central-1",
        prefix: "",
        forcePathStyle: false,
      },
    });
  });

  test("error: half a key pair, a bad bucket or prefix, and S3 settings without a bucket say what to fix", () => {
    const messageOf = (env: Record<string, string>) => {
      try {
        optionsFromEnv({ ...minimal, ...env });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error("accepted");
    };
    expect(messageOf({ S3_BUCKET: "docs-bucket", S3_ACCESS_KEY_ID: "minio" })).toMatch(
      /S3_SECRET_ACCESS_KEY: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither/,
    );
    expect(messageOf({ S3_BUCKET: "Docs_Bucket" })).toMatch(/S3_BUCKET: an S3 bucket name/);
    expect(messageOf({ S3_BUCKET: "docs-bucket", S3_PREFIX: "documents" })).toMatch(/S3_PREFIX/);
    expect(messageOf({ S3_BUCKET: "docs-bucket", S3_ENDPOINT: "minio:9000" })).toMatch(/S3_ENDPOINT/);
    expect(messageOf({ S3_ENDPOINT: "http://minio:9000" })).toMatch(
      /S3_ENDPOINT: has no effect without S3_BUCKET/,
    );
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

describe("optionsFromEnv: webhooks", () => {
  test("default: private URLs refused, 25 subscriptions per organization", () => {
    expect(optionsFromEnv(minimal).webhooks).toEqual({ allowPrivateUrls: false, maxSubscriptions: 25 });
    // Compose passes unset variables through as "": the defaults.
    expect(
      optionsFromEnv({ ...minimal, WEBHOOK_ALLOW_PRIVATE_URLS: "", WEBHOOK_MAX_SUBSCRIPTIONS: "" }).webhooks,
    ).toEqual({ allowPrivateUrls: false, maxSubscriptions: 25 });
  });

  test("args: WEBHOOK_ALLOW_PRIVATE_URLS and WEBHOOK_MAX_SUBSCRIPTIONS", () => {
    expect(
      optionsFromEnv({ ...minimal, WEBHOOK_ALLOW_PRIVATE_URLS: "true", WEBHOOK_MAX_SUBSCRIPTIONS: "100" })
        .webhooks,
    ).toEqual({ allowPrivateUrls: true, maxSubscriptions: 100 });
    expect(gatewayEnvironment({ ...minimal, WEBHOOK_ALLOW_PRIVATE_URLS: "true" })).toMatchObject({
      WEBHOOK_ALLOW_PRIVATE_URLS: "true",
    });
  });

  test("error: anything but true or false, a limit below 1", () => {
    expect(() => optionsFromEnv({ ...minimal, WEBHOOK_ALLOW_PRIVATE_URLS: "yes" })).toThrow(
      /WEBHOOK_ALLOW_PRIVATE_URLS: true or false/,
    );
    expect(() => optionsFromEnv({ ...minimal, WEBHOOK_MAX_SUBSCRIPTIONS: "0" })).toThrow(
      /WEBHOOK_MAX_SUBSCRIPTIONS/,
    );
  });
});
