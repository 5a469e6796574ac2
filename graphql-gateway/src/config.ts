import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildEnv, type EnvValues, type LogLevel, parseConfig, portVar, sharedEnv } from "@carechain/common";
import { z } from "zod";
import { defaultRateLimits, formatRate, parseRate, type Rate } from "./gateway/rate-limit.ts";
import {
  defaultAnswerCache,
  defaultLimits,
  defaultMaxDocumentBytes,
  defaultMetricsPort,
  defaultSubgraphPorts,
  defaultWebhooks,
  type GatewayOptions,
} from "./options.ts";

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A rate limit: "<count>/<seconds>s" (60/60s: 60 a minute, 60 at once) or "off". */
const rate = (fallback: Rate) =>
  z
    .string()
    .default(formatRate(fallback))
    .transform((value, ctx) => {
      try {
        return parseRate(value);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    });
const schemaName = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "a lower-case PostgreSQL schema name");
const url = z.url();
/** Compose passes `${S3_BUCKET:-}` as "": the same as not set. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema);

const gatewayEnvFields = z.object({
  DATABASE_URL: sharedEnv.DATABASE_URL,
  GATEWAY_HOST: z.string().min(1).default("127.0.0.1"),
  GATEWAY_PORT: portVar(4000),
  JWT_SECRET: z
    .string({
      error: "required: the HS256 secret of sign-in tokens; generate one with `openssl rand -hex 32`",
    })
    .min(32, "at least 32 characters; generate one with `openssl rand -hex 32`"),
  JWT_TTL_SECONDS: positive(900),
  SUBGRAPH_SECRET: z.string().min(32, "at least 32 characters (default: derived from JWT_SECRET)").optional(),
  SIWE_DOMAIN: z.string().min(1).optional(),
  SIWE_URI: url.optional(),
  CHAIN_ID: positive(31_337),
  NONCE_TTL_SECONDS: positive(300),
  RPC_URL: url.optional(),
  PROJECTION_SCHEMA: schemaName.default("carechain"),
  GATEWAY_SCHEMA: schemaName.default("gateway"),
  SUBGRAPH_HOST: z.string().min(1).default("127.0.0.1"),
  IDENTITY_PORT: portVar(defaultSubgraphPorts.identity),
  RECORDS_PORT: portVar(defaultSubgraphPorts.records),
  VITALS_PORT: portVar(defaultSubgraphPorts.vitals),
  IDENTITY_URL: url.optional(),
  RECORDS_URL: url.optional(),
  VITALS_URL: url.optional(),
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  MAX_DEPTH: positive(defaultLimits.maxDepth),
  MAX_COST: positive(defaultLimits.maxCost),
  MAX_PAGE_SIZE: positive(defaultLimits.maxPageSize),
  MAX_ALIASES: positive(defaultLimits.maxAliases),
  MAX_ROOT_FIELDS: positive(defaultLimits.maxRootFields),
  MAX_SELECTIONS: positive(defaultLimits.maxSelections),
  /** Bytes of a POST /graphql body (413 above). */
  MAX_BODY_BYTES: positive(defaultLimits.maxBodyBytes),
  MAX_QUERY_LENGTH: positive(defaultLimits.maxQueryLength),
  RATE_LIMIT_NONCE_PER_IP: rate(defaultRateLimits.noncePerAddress),
  RATE_LIMIT_VERIFY_PER_IP: rate(defaultRateLimits.verifyPerAddress),
  RATE_LIMIT_VERIFY_PER_ACCOUNT: rate(defaultRateLimits.verifyPerAccount),
  RATE_LIMIT_GRAPHQL_PER_IP: rate(defaultRateLimits.graphqlPerAddress),
  RATE_LIMIT_GRAPHQL_PER_ACCOUNT: rate(defaultRateLimits.graphqlPerAccount),
  RATE_LIMIT_SOCKETS_PER_IP: rate(defaultRateLimits.socketsPerAddress),
  RATE_LIMIT_SUBSCRIBES_PER_ACCOUNT: rate(defaultRateLimits.subscribesPerAccount),
  MAX_SOCKETS_PER_ACCOUNT: positive(defaultRateLimits.maxSocketsPerAccount),
  MAX_SUBSCRIPTIONS_PER_SOCKET: positive(defaultRateLimits.maxSubscriptionsPerSocket),
  MAX_SUBSCRIPTIONS_PER_ACCOUNT: positive(defaultRateLimits.maxSubscriptionsPerAccount),
  AUDIT_FLUSH_MS: z.coerce.number().int().min(0).default(0),
  AUDIT_BATCH_ROWS: positive(500),
  /** Answers kept until the projections change (0: off); only where the subgraphs run beside the gateway. */
  ANSWER_CACHE_ENTRIES: z.coerce.number().int().min(0).default(defaultAnswerCache.maxEntries),
  ANSWER_CACHE_MAX_BYTES: positive(defaultAnswerCache.maxBytes),
  /** How far the database's clock may be from the gateway's: no answer is kept this close to an expiry. */
  ANSWER_CACHE_CLOCK_MARGIN_MS: z.coerce.number().int().min(0).default(defaultAnswerCache.clockMarginMs),
  /**
   * Webhook URLs on loopback, private networks, link-local (cloud metadata) or ULA addresses: refused
   * unless "true" (npm start sets it: its receivers are on 127.0.0.1).
   */
  WEBHOOK_ALLOW_PRIVATE_URLS: unsetIfEmpty(
    z
      .enum(["true", "false"], { message: "true or false" })
      .default(defaultWebhooks.allowPrivateUrls ? "true" : "false"),
  ),
  /** Webhook subscriptions per organization. */
  WEBHOOK_MAX_SUBSCRIPTIONS: unsetIfEmpty(positive(defaultWebhooks.maxSubscriptions)),
  /**
   * Encrypted record documents: blobs in this directory (npm start: <data folder>/documents). S3_BUCKET
   * switches the same gateway to an S3-compatible store instead; with neither, the endpoints are off.
   */
  DOCUMENTS_DIR: z.string().min(1).optional(),
  DOCUMENTS_MAX_BYTES: positive(defaultMaxDocumentBytes),
  S3_BUCKET: unsetIfEmpty(
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        "an S3 bucket name: 3-63 lower-case letters, digits, '.', '-'",
      )
      .optional(),
  ),
  /** An S3-compatible server (MinIO, Ceph, …); AWS's own endpoint for S3_REGION when unset. */
  S3_ENDPOINT: unsetIfEmpty(
    z.url({ protocol: /^https?$/, error: "an http(s) URL, e.g. http://minio:9000" }).optional(),
  ),
  S3_REGION: unsetIfEmpty(z.string().min(1).default("us-east-1")),
  S3_PREFIX: unsetIfEmpty(
    z
      .string()
      .regex(/^([A-Za-z0-9!_.*'()-]+\/)*$/, "empty, or key segments each ending in '/' (documents/)")
      .default(""),
  ),
  /** Path-style addressing (http://host/bucket/key): on by default with S3_ENDPOINT, as most servers need. */
  S3_FORCE_PATH_STYLE: unsetIfEmpty(z.enum(["true", "false"], { message: "true or false" }).optional()),
  /** Static keys (both or neither); without them the AWS SDK's default credential chain is used. */
  S3_ACCESS_KEY_ID: unsetIfEmpty(z.string().min(1).optional()),
  S3_SECRET_ACCESS_KEY: unsetIfEmpty(z.string().min(1).optional()),
  LOG_LEVEL: sharedEnv.LOG_LEVEL,
  /** Operator server (/metrics, detailed /health): loopback unless set; never the public port. */
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  METRICS_PORT: portVar(defaultMetricsPort),
});

/** The gateway's environment (main.ts): the one declaration of every variable it reads. */
export const gatewayEnvSchema = gatewayEnvFields.superRefine((env, ctx) => {
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY))
    ctx.addIssue({
      code: "custom",
      path: [env.S3_ACCESS_KEY_ID ? "S3_SECRET_ACCESS_KEY" : "S3_ACCESS_KEY_ID"],
      message: "set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (AWS credential chain)",
    });
  if (!env.S3_BUCKET)
    for (const name of ["S3_ENDPOINT", "S3_PREFIX", "S3_FORCE_PATH_STYLE", "S3_ACCESS_KEY_ID"] as const)
      if (env[name])
        ctx.addIssue({
          code: "custom",
          path: [name],
          message: "has no effect without S3_BUCKET: set S3_BUCKET to use an S3-compatible store",
        });
});

/** The gateway's environment from typed values, validated here (for whoever starts it: npm start, the load tests). */
export function gatewayEnvironment(values: EnvValues<typeof gatewayEnvSchema>): Record<string, string> {
  return buildEnv(gatewayEnvSchema, values, "gateway");
}

/** Parses the environment (ConfigError naming each wrong variable) into the gateway's options. */
export function optionsFromEnv(
  env: Record<string, string | undefined>,
): GatewayOptions & { logLevel: LogLevel } {
  const config = parseConfig(gatewayEnvSchema, env, "gateway");
  const subgraphUrls: Record<string, string> = {};
  if (config.IDENTITY_URL) subgraphUrls.identity = config.IDENTITY_URL;
  if (config.RECORDS_URL) subgraphUrls.records = config.RECORDS_URL;
  if (config.VITALS_URL) subgraphUrls.vitals = config.VITALS_URL;
  return {
    databaseUrl: config.DATABASE_URL,
    projectionSchema: config.PROJECTION_SCHEMA,
    gatewaySchema: config.GATEWAY_SCHEMA,
    host: config.GATEWAY_HOST,
    port: config.GATEWAY_PORT,
    jwtSecret: config.JWT_SECRET,
    jwtTtlSeconds: config.JWT_TTL_SECONDS,
    subgraphSecret:
      config.SUBGRAPH_SECRET ??
      createHmac("sha256", config.JWT_SECRET).update("carechain-subgraph-context").digest("hex"),
    siweDomain: config.SIWE_DOMAIN ?? `localhost:${config.GATEWAY_PORT}`,
    siweUri: config.SIWE_URI ?? `http://localhost:${config.GATEWAY_PORT}`,
    chainId: config.CHAIN_ID,
    nonceTtlSeconds: config.NONCE_TTL_SECONDS,
    rpcUrl: config.RPC_URL,
    subgraphHost: config.SUBGRAPH_HOST,
    subgraphPorts: {
      identity: config.IDENTITY_PORT,
      records: config.RECORDS_PORT,
      vitals: config.VITALS_PORT,
    },
    subgraphUrls,
    supergraphPath:
      config.SUPERGRAPH_PATH ?? fileURLToPath(new URL("../generated/supergraph.graphql", import.meta.url)),
    limits: {
      maxDepth: config.MAX_DEPTH,
      maxCost: config.MAX_COST,
      maxPageSize: config.MAX_PAGE_SIZE,
      maxAliases: config.MAX_ALIASES,
      maxRootFields: config.MAX_ROOT_FIELDS,
      maxSelections: config.MAX_SELECTIONS,
      maxBodyBytes: config.MAX_BODY_BYTES,
      maxQueryLength: config.MAX_QUERY_LENGTH,
      rates: {
        noncePerAddress: config.RATE_LIMIT_NONCE_PER_IP,
        verifyPerAddress: config.RATE_LIMIT_VERIFY_PER_IP,
        verifyPerAccount: config.RATE_LIMIT_VERIFY_PER_ACCOUNT,
        graphqlPerAddress: config.RATE_LIMIT_GRAPHQL_PER_IP,
        graphqlPerAccount: config.RATE_LIMIT_GRAPHQL_PER_ACCOUNT,
        socketsPerAddress: config.RATE_LIMIT_SOCKETS_PER_IP,
        subscribesPerAccount: config.RATE_LIMIT_SUBSCRIBES_PER_ACCOUNT,
        maxSocketsPerAccount: config.MAX_SOCKETS_PER_ACCOUNT,
        maxSubscriptionsPerSocket: config.MAX_SUBSCRIPTIONS_PER_SOCKET,
        maxSubscriptionsPerAccount: config.MAX_SUBSCRIPTIONS_PER_ACCOUNT,
      },
    },
    webhooks: {
      allowPrivateUrls: config.WEBHOOK_ALLOW_PRIVATE_URLS === "true",
      maxSubscriptions: config.WEBHOOK_MAX_SUBSCRIPTIONS,
    },
    ...documentsOptions(config),
    audit: { flushIntervalMs: config.AUDIT_FLUSH_MS, maxBatchRows: config.AUDIT_BATCH_ROWS },
    answerCache: {
      maxEntries: config.ANSWER_CACHE_ENTRIES,
      maxBytes: config.ANSWER_CACHE_MAX_BYTES,
      clockMarginMs: config.ANSWER_CACHE_CLOCK_MARGIN_MS,
    },
    metrics: { host: config.METRICS_HOST, port: config.METRICS_PORT },
    logLevel: config.LOG_LEVEL,
  };
}

/** S3_BUCKET switches the store to S3 (whatever DOCUMENTS_DIR says); DOCUMENTS_DIR alone, the filesystem. */
function documentsOptions(config: z.infer<typeof gatewayEnvSchema>): Pick<GatewayOptions, "documents"> {
  const maxBytes = config.DOCUMENTS_MAX_BYTES;
  if (config.S3_BUCKET) {
    const credentials =
      config.S3_ACCESS_KEY_ID && config.S3_SECRET_ACCESS_KEY
        ? { accessKeyId: config.S3_ACCESS_KEY_ID, secretAccessKey: config.S3_SECRET_ACCESS_KEY }
        : undefined;
    return {
      documents: {
        maxBytes,
        store: {
          kind: "s3",
          bucket: config.S3_BUCKET,
          endpoint: config.S3_ENDPOINT,
          region: config.S3_REGION,
          prefix: config.S3_PREFIX,
          forcePathStyle: config.S3_FORCE_PATH_STYLE
            ? config.S3_FORCE_PATH_STYLE === "true"
            : Boolean(config.S3_ENDPOINT),
          ...(credentials ? { credentials } : {}),
        },
      },
    };
  }
  if (config.DOCUMENTS_DIR)
    return { documents: { maxBytes, store: { kind: "fs", dir: config.DOCUMENTS_DIR } } };
  return {};
}
