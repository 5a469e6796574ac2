/**
 * Everything the gateway and its subgraphs need, parsed once from the environment in `main.ts` and passed
 * down in the `Common` context. Nothing below the entry point reads `process.env`.
 */
import type { BlobStoreConfig } from "@carechain/documents";
import { defaultRateLimits, type RateLimits } from "./gateway/rate-limit.ts";

export type SubgraphName = "identity" | "records" | "vitals";

export const subgraphNames: readonly SubgraphName[] = ["identity", "records", "vitals"];

export const defaultSubgraphPorts: Record<SubgraphName, number> = {
  identity: 4001,
  records: 4002,
  vitals: 4003,
};

export type GatewayOptions = {
  databaseUrl: string;
  /** Schema whose tables or views hold the projections (the projector's `carechain` views). */
  projectionSchema: string;
  /** Schema the gateway owns: sign-in nonces and the audit log. */
  gatewaySchema: string;
  host: string;
  port: number;
  /** HS256 secret of the viewers' tokens. */
  jwtSecret: string;
  jwtTtlSeconds: number;
  /** HS256 secret of the viewer context the gateway sends its subgraphs. */
  subgraphSecret: string;
  siweDomain: string;
  siweUri: string;
  chainId: number;
  nonceTtlSeconds: number;
  /** When set, signatures are checked through this node (smart-contract wallets, ERC-1271 / ERC-6492). */
  rpcUrl: string | undefined;
  /** Interface the subgraphs listen on (127.0.0.1 when they run beside the gateway). */
  subgraphHost: string;
  subgraphPorts: Record<SubgraphName, number>;
  /** Where the gateway finds each subgraph; overrides the URLs written in the supergraph at build time. */
  subgraphUrls: Record<string, string>;
  supergraphPath: string;
  limits: Limits;
  audit: { flushIntervalMs: number; maxBatchRows: number };
  /** Answers kept until the projections change (gateway/answer-cache.ts); maxEntries 0: off. */
  answerCache: AnswerCacheOptions;
  /** Webhook subscriptions (webhooks/): private URLs allowed (WEBHOOK_ALLOW_PRIVATE_URLS), at most per organization. */
  webhooks: WebhookOptions;
  /** Encrypted record documents: a directory (DOCUMENTS_DIR) or an S3 bucket (S3_*); off when absent. */
  documents?: { store: BlobStoreConfig; maxBytes: number };
  /**
   * The operator server: `/metrics` and the detailed `/health`, never on the public port (METRICS_HOST,
   * 127.0.0.1 by default; METRICS_PORT, 0: any free port). Set by main.ts for every process; absent where a
   * test starts the servers itself.
   */
  metrics?: { host: string; port: number };
};

export type WebhookOptions = {
  /**
   * Accept webhook URLs on loopback, private, link-local (metadata) and ULA addresses. Off in production:
   * a subscription could otherwise make the delivery service call into the operator's network. `npm start`
   * and the tests turn it on (every receiver there is on 127.0.0.1).
   */
  allowPrivateUrls: boolean;
  /** Webhook subscriptions per organization. */
  maxSubscriptions: number;
};

export const defaultWebhooks: WebhookOptions = { allowPrivateUrls: false, maxSubscriptions: 25 };

export type AnswerCacheOptions = { maxEntries: number; maxBytes: number; clockMarginMs: number };

export const defaultAnswerCache: AnswerCacheOptions = {
  maxEntries: 10_000,
  maxBytes: 64 * 1024 * 1024,
  clockMarginMs: 1_000,
};

/** The operator server's default port (ingest has 9464, the projector 9465). */
export const defaultMetricsPort = 9466;

/** Bytes of one encrypted record document (DOCUMENTS_MAX_BYTES). */
export const defaultMaxDocumentBytes = 256 * 1024 * 1024;

/** What one request may ask for (gateway/limits.ts), and how often (gateway/rate-limit.ts). */
export type Limits = {
  maxDepth: number;
  maxCost: number;
  maxPageSize: number;
  /** Aliased fields in a document: each one is resolved (and may query the database) on its own. */
  maxAliases: number;
  /** Top-level fields of an operation. */
  maxRootFields: number;
  /** Selections (fields, fragment spreads) in a document, checked before validation (which is quadratic). */
  maxSelections: number;
  /** Bytes of a POST /graphql body. */
  maxBodyBytes: number;
  /** Characters of the query string. */
  maxQueryLength: number;
  rates: RateLimits;
};

export const defaultLimits: Limits = {
  maxDepth: 10,
  maxCost: 20_000,
  maxPageSize: 100,
  maxAliases: 100,
  maxRootFields: 30,
  maxSelections: 500,
  maxBodyBytes: 64 * 1024,
  maxQueryLength: 32 * 1024,
  rates: defaultRateLimits,
};
