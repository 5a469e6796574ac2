import { randomBytes } from "node:crypto";
import {
  type Common,
  createCommon,
  createLogger,
  createSilentLogger,
  type LogLevel,
} from "@carechain/common";
import { getStack } from "@carechain/stack/testing";
import type { GraphQLFormattedError } from "graphql";
import type { PrivateKeyAccount } from "viem";
import { type AuditLog, createAuditLog } from "../audit/audit-log.ts";
import { signIn } from "../client/sign-in.ts";
import type { Database } from "../database/pool.ts";
import { createAnswerCache } from "../gateway/answer-cache.ts";
import { composeSupergraph } from "../gateway/compose.ts";
import { type RunningGateway, startGateway } from "../gateway/server.ts";
import { gatewayMetrics } from "../metrics.ts";
import {
  type AnswerCacheOptions,
  defaultAnswerCache,
  defaultLimits,
  defaultWebhooks,
  type GatewayOptions,
  type Limits,
  type WebhookOptions,
} from "../options.ts";
import {
  ourSubgraphs,
  type RunningSubgraph,
  type SubgraphDefinition,
  startSubgraphs,
} from "../subgraphs/index.ts";
import { createTestDatabase } from "./database.ts";
import { createWorld, Fixtures, testChainId, type World } from "./fixtures.ts";

// @apollo/gateway sends anonymous usage telemetry to Apollo (and probes cloud metadata endpoints) unless
// this is set before it is constructed; health data never leaves, but nothing should call out. main.ts does
// the same for the real processes.
process.env.APOLLO_TELEMETRY_DISABLED = "true";

const testDomain = "carechain.test";

export type GraphQLResponse<T = Record<string, unknown>> = {
  status: number;
  data: T | null | undefined;
  errors: GraphQLFormattedError[] | undefined;
  headers: Headers;
};

export type TestGateway = {
  gateway: RunningGateway;
  subgraphs: RunningSubgraph[];
  common: Common<GatewayOptions>;
  db: Database;
  fixtures: Fixtures;
  audit: AuditLog;
  supergraphSdl: string;
  /** POST /graphql as `token` (or anonymous). */
  query<T = Record<string, unknown>>(
    query: string,
    options?: {
      token?: string | null;
      variables?: Record<string, unknown>;
      operationName?: string;
      headers?: Record<string, string>;
    },
  ): Promise<GraphQLResponse<T>>;
  /** Sign-In with Ethereum through the gateway's HTTP endpoints. */
  signIn(account: PrivateKeyAccount): Promise<string>;
  createWorld(): Promise<World>;
  stop(): Promise<void>;
};

/**
 * Starts our subgraphs (plus `extraSubgraphs`) and the gateway in this process on free 127.0.0.1 ports,
 * composing the supergraph from them, over a fresh test database. `subscriptions: true` also starts the
 * event feed reader (then wait for `gateway.subscriptionsReady`); the fixtures' events reach it as the
 * projector's do.
 */
export async function createTestGateway(
  options: {
    extraSubgraphs?: readonly SubgraphDefinition[];
    subscriptions?: boolean;
    limits?: Partial<Limits>;
    audit?: { flushIntervalMs?: number; maxBatchRows?: number };
    /**
     * As `npm start` runs them (default): the subgraphs asked in process, answers kept by the answer cache
     * (these settings). false: asked over HTTP, nothing kept. With `extraSubgraphs`, always false.
     */
    answerCache?: Partial<AnswerCacheOptions> | false;
    /**
     * Webhook settings. Private URLs are allowed by default, as `npm start` runs (every test receiver is on
     * 127.0.0.1); `{ allowPrivateUrls: false }` for the production rule.
     */
    webhooks?: Partial<WebhookOptions>;
    /** Logs to stderr at this level (silent by default). */
    logLevel?: LogLevel;
  } = {},
): Promise<TestGateway> {
  const { db, drop } = await createTestDatabase();
  try {
    const gatewayOptions: GatewayOptions = {
      databaseUrl: getStack().databaseUrl,
      projectionSchema: db.projectionSchema,
      gatewaySchema: db.gatewaySchema,
      host: "127.0.0.1",
      port: 0,
      jwtSecret: randomBytes(32).toString("hex"),
      jwtTtlSeconds: 900,
      subgraphSecret: randomBytes(32).toString("hex"),
      siweDomain: testDomain,
      siweUri: `https://${testDomain}`,
      chainId: testChainId,
      nonceTtlSeconds: 300,
      rpcUrl: undefined,
      subgraphHost: "127.0.0.1",
      subgraphPorts: { identity: 0, records: 0, vitals: 0 },
      subgraphUrls: {},
      supergraphPath: "(composed in the test)",
      limits: { ...defaultLimits, ...options.limits },
      audit: {
        flushIntervalMs: options.audit?.flushIntervalMs ?? 0,
        maxBatchRows: options.audit?.maxBatchRows ?? 500,
      },
      answerCache: { ...defaultAnswerCache, ...options.answerCache },
      webhooks: { ...defaultWebhooks, allowPrivateUrls: true, ...options.webhooks },
    };
    const common = createCommon("gateway-test", gatewayOptions, {
      logger: options.logLevel
        ? createLogger({ service: "gateway-test", level: options.logLevel })
        : createSilentLogger(),
    });
    const audit = createAuditLog({
      db,
      logger: common.logger,
      metrics: gatewayMetrics(common.metrics),
      owner: "all",
      ...gatewayOptions.audit,
    });
    const metrics = gatewayMetrics(common.metrics);
    const answers =
      options.answerCache === false || options.extraSubgraphs?.length
        ? undefined
        : createAnswerCache({ db, audit, settings: gatewayOptions.answerCache, metrics });
    const running = await startSubgraphs(common, {
      db,
      audit: answers ? answers.capturingSink(audit) : audit,
      extra: options.extraSubgraphs ?? [],
    });
    const definitions = [...Object.values(ourSubgraphs), ...(options.extraSubgraphs ?? [])];
    const supergraphSdl = composeSupergraph(
      definitions.map((definition) => ({
        name: definition.name,
        typeDefs: definition.typeDefs,
        url: running.urls[definition.name]!,
      })),
    );
    const gateway = await startGateway(common, {
      db,
      supergraphSdl,
      subscriptions: options.subscriptions ?? false,
      audit,
      ...(answers && {
        answers,
        localSubgraphs: Object.fromEntries(running.subgraphs.map((s) => [s.name, s.execute])),
      }),
    });

    const harness: TestGateway = {
      gateway,
      subgraphs: running.subgraphs,
      common,
      db,
      fixtures: new Fixtures(db),
      audit,
      supergraphSdl,
      async query<T>(query: string, requestOptions: Parameters<TestGateway["query"]>[1] = {}) {
        const response = await fetch(gateway.graphqlUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(requestOptions.token ? { authorization: `Bearer ${requestOptions.token}` } : {}),
            ...requestOptions.headers,
          },
          body: JSON.stringify({
            query,
            variables: requestOptions.variables,
            operationName: requestOptions.operationName,
          }),
        });
        const body = (await response.json()) as { data?: T | null; errors?: GraphQLFormattedError[] };
        return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
      },
      async signIn(account) {
        return (await signIn({ url: gateway.url, account })).token;
      },
      createWorld: () => createWorld(harness),
      async stop() {
        await gateway.stop();
        await running.close();
        await audit.stop();
        await drop();
      },
    };
    return harness;
  } catch (error) {
    await drop();
    throw error;
  }
}
