import { createServer, type Server } from "node:http";
import { ApolloServer, type BaseContext } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper/index.js";
import type { Logger, Metrics } from "@carechain/common";
import type { DocumentNode, FormattedExecutionResult, GraphQLFormattedError } from "graphql";
import type { AuditSink } from "../audit/audit-log.ts";
import { auditPlugin } from "../audit/audit-plugin.ts";
import type { Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { GatewayError } from "../errors.ts";
import { limitsPlugin, requestPrecheck, subgraphLimits } from "../gateway/limits.ts";
import {
  type SubgraphRequestBody,
  verifyViewerContext,
  viewerContextHeader,
} from "../gateway/viewer-context.ts";
import {
  closeServer,
  createRouter,
  dispatch,
  executeGraphQL,
  listen,
  readJsonBody,
  refusalAnswer,
  sendJson,
} from "../http.ts";
import { gatewayMetrics } from "../metrics.ts";
import { defaultWebhooks, type Limits, type WebhookOptions } from "../options.ts";
import { RequestPolicy } from "../policy/index.ts";
import { deliveryScopePlugin } from "../webhooks/scope.ts";

/** What every resolver of every subgraph receives: who is asking (as the gateway signed it), the policy. */
export type SubgraphContext<TLoaders = unknown> = BaseContext & {
  viewer: Viewer;
  requestId: string;
  db: Database;
  policy: RequestPolicy;
  limits: Limits;
  /** The operator's webhook settings (private URLs allowed, subscriptions per organization). */
  webhooks: WebhookOptions;
  loaders: TLoaders;
  /**
   * What the execution found out, for whoever asked (an object: Apollo Server runs each request with a
   * shallow copy of the context). `unversioned`: a resolver read data the projections' read version does
   * not cover (the audit log), so the answer may change without them and the answer cache must not keep it.
   */
  outcome: { unversioned: boolean };
};

/**
 * A subgraph: its SDL (Federation 2, extending `Patient` / `Doctor` by `address` as it needs), resolvers
 * and per-request loaders. Another team adds a subgraph by writing one of these and starting it with
 * `startSubgraphServer`: it then gets the verified viewer and the policy like ours.
 */
export type SubgraphDefinition<TLoaders = unknown> = {
  name: string;
  typeDefs: DocumentNode;
  // biome-ignore lint/suspicious/noExplicitAny: resolver maps are typed per field by their modules.
  resolvers: GraphQLResolverMap<any>;
  createLoaders?: (db: Database) => TLoaders;
};

/**
 * Largest request a subgraph reads: the gateway's query plan part with its entity representations, which
 * the gateway's cost limit bounds (an item costs at least 1).
 */
const maxSubgraphBodyBytes = 4 * 1024 * 1024;

/** A subgraph request as the gateway sends it: the signed viewer context header and the JSON body. */
export type SubgraphRequest = { header: string | undefined; body: SubgraphRequestBody };

/**
 * A subgraph's answer: the HTTP status it would have sent (2xx, or a refusal), the GraphQL result, and
 * whether it read data outside the versioned projections (`SubgraphContext.unversioned`).
 */
export type SubgraphResponse = { status: number; result: FormattedExecutionResult; unversioned?: boolean };

export type RunningSubgraph = {
  name: string;
  url: string;
  server: Server;
  /**
   * The same request as `POST url`, answered in this process without HTTP or JSON: the gateway uses it
   * when the subgraph runs beside it. Same viewer context check, policy, audit and limits.
   */
  execute: (request: SubgraphRequest) => Promise<SubgraphResponse>;
  close: () => Promise<void>;
};

export async function startSubgraphServer<TLoaders>(options: {
  definition: SubgraphDefinition<TLoaders>;
  db: Database;
  audit: AuditSink;
  /** Secret of the gateway's signed viewer context. */
  secret: string;
  limits: Limits;
  /** Webhook settings (identity subgraph); the defaults (no private URLs) when not given. */
  webhooks?: WebhookOptions;
  logger: Logger;
  metrics: Metrics;
  host?: string;
  port?: number;
}): Promise<RunningSubgraph> {
  const { definition, db, logger } = options;
  const log = logger.child({ subgraph: definition.name });
  const counter = gatewayMetrics(options.metrics).subgraphRequests;
  const limits = subgraphLimits(options.limits);
  const precheck = requestPrecheck(limits);
  const apollo = new ApolloServer<SubgraphContext<TLoaders>>({
    schema: buildSubgraphSchema({ typeDefs: definition.typeDefs, resolvers: definition.resolvers }),
    includeStacktraceInErrorResponses: false,
    // A viewer context is signed for one query text: no persisted-query registration around it.
    persistedQueries: false,
    // Traces would go to Apollo's cloud through the gateway; we keep our own metrics. The limits apply
    // again: a subgraph does not take the gateway's word for what it is asked.
    plugins: [
      ApolloServerPluginInlineTraceDisabled(),
      auditPlugin<SubgraphContext<TLoaders>>(log),
      limitsPlugin<SubgraphContext<TLoaders>>(limits),
      // An API key's viewer is held to its scope here too, not only at the gateway.
      deliveryScopePlugin<SubgraphContext<TLoaders>>(),
    ],
    formatError: (formatted, error) => formatSubgraphError(formatted, error, log),
  });
  await apollo.start();

  /** The viewer the gateway signed for this very request (counted either way), or a GatewayError. */
  async function verified(header: string | string[] | undefined, body: SubgraphRequestBody) {
    const viewerContext = await verifyViewerContext(
      options.secret,
      Array.isArray(header) ? header[0] : header,
      body,
    ).catch((error: unknown) => {
      if (error instanceof GatewayError)
        counter.inc({ subgraph: definition.name, outcome: error.code.toLowerCase() });
      throw error;
    });
    counter.inc({ subgraph: definition.name, outcome: "accepted" });
    return async (): Promise<SubgraphContext<TLoaders>> => ({
      viewer: viewerContext.viewer,
      requestId: viewerContext.requestId,
      db,
      limits: options.limits,
      webhooks: options.webhooks ?? defaultWebhooks,
      loaders: (definition.createLoaders?.(db) ?? {}) as TLoaders,
      outcome: { unversioned: false },
      policy: new RequestPolicy({
        db,
        viewer: viewerContext.viewer,
        requestId: viewerContext.requestId,
        audit: options.audit,
        channel: "query",
      }),
    });
  }

  const router = createRouter();
  router.all("/health", (_req, res) => sendJson(res, 200, { ok: true, subgraph: definition.name }));
  // The gateway POSTs; the viewer context is checked against the body, so nothing else is taken.
  router.on("POST", "/graphql", async (req, res) => {
    const header = req.headers[viewerContextHeader];
    // Without a header nothing is read: the refusal below needs no body.
    const body = header ? await readJsonBody(req, maxSubgraphBodyBytes) : undefined;
    const context = await verified(header, (body ?? {}) as SubgraphRequestBody);
    await executeGraphQL(apollo, req, res, context, { body, precheck });
  });

  async function execute({ header, body }: SubgraphRequest): Promise<SubgraphResponse> {
    let context: () => Promise<SubgraphContext<TLoaders>>;
    try {
      context = await verified(header, body);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return {
        status: error.status,
        result: { errors: [{ message: error.shortMessage, extensions: { code: error.code } }] },
      };
    }
    const refusal = precheck({ body, search: "" });
    if (refusal) return refusalAnswer(refusal);
    const { query, operationName, variables, extensions } = body as {
      query?: string;
      operationName?: string;
      variables?: Record<string, unknown>;
      extensions?: Record<string, unknown>;
    };
    const contextValue = await context();
    const response = await apollo.executeOperation(
      { query, operationName, variables, extensions },
      { contextValue },
    );
    // Incremental delivery is not enabled on subgraphs (the audit plugin refuses it too).
    if (response.body.kind !== "single")
      throw new GatewayError("INTERNAL_SERVER_ERROR", "Subgraphs answer in one part.");
    return {
      status: response.http.status ?? 200,
      result: response.body.singleResult,
      unversioned: contextValue.outcome.unversioned,
    };
  }

  const server = createServer((req, res) => {
    void dispatch(router, req, res, { log, shape: "graphql", notFound: "Not found: use /graphql." });
  });
  const base = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  log.debug({ url: base }, "subgraph listening");
  let closing: Promise<void> | undefined;
  return {
    name: definition.name,
    url: `${base}/graphql`,
    server,
    execute,
    close() {
      closing ??= closeServer(server).then(() => apollo.stop());
      return closing;
    },
  };
}

/** Our errors keep their code and short message; anything else is logged and answered without details. */
export function formatSubgraphError(formatted: GraphQLFormattedError, error: unknown, log: Logger) {
  let cause: unknown = unwrapResolverError(error);
  for (let depth = 0; depth < 3 && cause && !(cause instanceof GatewayError); depth++) {
    cause = (cause as { originalError?: unknown }).originalError;
  }
  if (cause instanceof GatewayError) {
    return { ...formatted, message: cause.shortMessage, extensions: { code: cause.code } };
  }
  const code = formatted.extensions?.code;
  if (typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") return formatted;
  log.error({ err: unwrapResolverError(error) }, "resolver failed");
  return {
    message: "Internal server error.",
    ...(formatted.path ? { path: formatted.path } : {}),
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  };
}
