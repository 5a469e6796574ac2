import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import {
  ApolloGateway,
  type GraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
  RemoteGraphQLDataSource,
} from "@apollo/gateway";
import { ApolloServer, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import type { Fetcher, FetcherResponse } from "@apollo/utils.fetcher";
import type { Common, HealthCheck } from "@carechain/common";
import type { GraphQLFormattedError, OperationTypeNode } from "graphql";
import type { Address } from "viem";
import { type AuditLog, createAuditLog, requestIdFrom } from "../audit/audit-log.ts";
import { AccessTokenVerifier, bearerToken } from "../auth/jwt.ts";
import { NonceStore } from "../auth/nonces.ts";
import { createSignatureVerifier, SignInService } from "../auth/siwe.ts";
import { anonymousViewer, loadViewer, type Viewer } from "../auth/viewer.ts";
import { migrateGatewaySchema } from "../database/migrate.ts";
import type { Database } from "../database/pool.ts";
import { addDocumentRoutes, type DocumentsConfig } from "../documents/routes.ts";
import { GatewayError, SignInError, UnauthenticatedError } from "../errors.ts";
import { addFhirRoutes } from "../fhir/routes.ts";
import { GraphQLError } from "../graphql.ts";
import {
  closeServer,
  createRouter,
  dispatch,
  executeGraphQL,
  listen,
  readJsonBody,
  sendJson,
} from "../http.ts";
import { gatewayMetrics, operationLabel } from "../metrics.ts";
import type { GatewayOptions } from "../options.ts";
import type { SubgraphRequest, SubgraphResponse } from "../subgraphs/server.ts";
import { authenticateApiKey, isApiKey } from "../webhooks/api-keys.ts";
import { deliveryScopePlugin, outsideScopeMessage } from "../webhooks/scope.ts";
import type { AnswerCache, AnswerHooks } from "./answer-cache.ts";
import { EventHub, startEventFeed } from "./event-feed.ts";
import { limitsPlugin, requestPrecheck } from "./limits.ts";
import { clientAddress, type LimitName, RateLimiter } from "./rate-limit.ts";
import { createSubscriptionSchema, startSubscriptionServer } from "./subscriptions.ts";
import { signViewerContext, viewerContextHeader } from "./viewer-context.ts";

/** Who a bearer token stands for: an account, limited to event delivery when an API key authenticated it. */
type Principal = { address: Address; scope?: "delivery" };

/** What the gateway knows about each request: who asks, the request id, and (once known) the operation's kind. */
export type GatewayContext = BaseContext & {
  viewer: Viewer;
  requestId: string;
  /**
   * What the execution found out, for the answer cache (an object: Apollo Server runs each request with a
   * shallow copy of the context): the operation's kind, and whether a subgraph read data outside the
   * versioned projections.
   */
  outcome: { operationType?: OperationTypeNode; unversioned: boolean };
};

export type RunningGateway = {
  /** http://host:port */
  url: string;
  /** http://host:port/graphql (POST queries) */
  graphqlUrl: string;
  /** ws://host:port/graphql (graphql-ws subscriptions) */
  wsUrl: string;
  server: Server;
  audit: AuditLog;
  /** Resolves once the subscription feed follows the projections (immediately when subscriptions are off). */
  subscriptionsReady: Promise<void>;
  /** Open subscriptions listening to the event feed. */
  liveSubscriptions: () => number;
  /** The detailed checks for the operator's /health (main.ts): the subscription feed, when on. */
  checks: Record<string, HealthCheck>;
  stop: () => Promise<void>;
};

const graphqlPath = "/graphql";

/** The viewer context of one subgraph fetch, signed for its query and variables (none outside a request). */
function viewerContextFor(
  secret: string,
  options: GraphQLDataSourceProcessOptions<GatewayContext>,
): Promise<string> | undefined {
  const context = options.context as Partial<GatewayContext> | undefined;
  if (!context?.viewer || !context.requestId) return undefined;
  return signViewerContext(secret, { viewer: context.viewer, requestId: context.requestId }, options.request);
}

/**
 * A subgraph's refusal (an HTTP error: a request it refused before execution) as our error code and
 * message, not its URL and body as Apollo's default gives.
 */
function subgraphRefusal(status: number, body: unknown): GraphQLError {
  const first =
    typeof body === "object" && Array.isArray((body as { errors?: unknown })?.errors)
      ? (body as { errors: { message?: unknown; extensions?: { code?: unknown } }[] }).errors[0]
      : undefined;
  const code =
    typeof first?.extensions?.code === "string"
      ? first.extensions.code
      : status === 401
        ? "UNAUTHENTICATED"
        : status === 403
          ? "FORBIDDEN"
          : "INTERNAL_SERVER_ERROR";
  const message = typeof first?.message === "string" ? first.message : `Subgraph answered ${status}.`;
  return new GraphQLError(message, { extensions: { code } });
}

/**
 * How the gateway calls a subgraph over HTTP: Node's own fetch (undici) instead of Apollo's default,
 * make-fetch-happen. undici retires an idle socket before the server's announced keep-alive (`Keep-Alive:
 * timeout=5` from a Node subgraph) runs out, while make-fetch-happen's agent keeps idle sockets forever and
 * may reuse one that the subgraph is closing at that very moment: the occasional ECONNRESET under load in
 * the split deployment. Cheaper too: make-fetch-happen builds an Error with its stack on every request.
 */
export const subgraphFetcher = globalThis.fetch as unknown as Fetcher;

/** Sends a viewer context with every subgraph fetch, signed for that fetch's query and variables. */
class ViewerContextDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: { url?: string },
    private readonly secret: string,
  ) {
    super({ ...config, fetcher: subgraphFetcher });
  }

  override async willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<void> {
    const token = await viewerContextFor(this.secret, options);
    if (token) options.request.http?.headers.set(viewerContextHeader, token);
  }

  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    return subgraphRefusal(response.status, await this.parseBody(response).catch(() => undefined));
  }
}

/** A subgraph served by this process: asked without HTTP and JSON, with the same signed viewer context. */
export type LocalSubgraph = (request: SubgraphRequest) => Promise<SubgraphResponse>;

type SubgraphAnswer = ReturnType<GraphQLDataSource<GatewayContext>["process"]>;

class InProcessDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly execute: LocalSubgraph,
    private readonly secret: string,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): SubgraphAnswer {
    const { query, operationName, variables, extensions } = options.request;
    const { status, result, unversioned } = await this.execute({
      header: await viewerContextFor(this.secret, options),
      body: { query, operationName, variables, extensions } as SubgraphRequest["body"],
    });
    if (unversioned && options.context) (options.context as GatewayContext).outcome.unversioned = true;
    if (status < 200 || status > 299) throw subgraphRefusal(status, result);
    return result as Awaited<SubgraphAnswer>;
  }
}

/**
 * The gateway: Apollo Gateway (static supergraph SDL) inside Apollo Server on one Node HTTP server, which
 * also serves Sign-In with Ethereum (`POST /auth/nonce`, `POST /auth/verify`), a bare `/health` and
 * graphql-ws subscriptions on the GraphQL path. `/metrics` is not public: main.ts serves it on the operator
 * port.
 */
export async function startGateway(
  common: Common<GatewayOptions>,
  deps: {
    db: Database;
    /** The composed supergraph (generated/supergraph.graphql, or composed in a test). */
    supergraphSdl: string;
    /** Subgraph URLs by name, overriding the supergraph's and the options'. */
    subgraphUrls?: Record<string, string>;
    /** Subgraphs running in this process, by name: asked in process instead of over HTTP. */
    localSubgraphs?: Record<string, LocalSubgraph>;
    /** Serve subscriptions (graphql-ws), fed by the projector's committed event feed. */
    subscriptions: boolean;
    /** The audit log of subscription deliveries (a new one when not given; stopped with the gateway). */
    audit?: AuditLog;
    /** Encrypted record documents (`/documents`); off when not given. */
    documents?: DocumentsConfig;
    /**
     * Answers kept until the projections change (gateway/answer-cache.ts). Only when every subgraph runs in
     * this process and audits into the cache's `capturingSink`.
     */
    answers?: AnswerCache;
    port?: number;
  },
): Promise<RunningGateway> {
  const { options, logger } = common;
  const { db } = deps;
  const metrics = gatewayMetrics(common.metrics);
  await migrateGatewaySchema(db);

  const ownAudit = !deps.audit;
  const audit = deps.audit ?? createAuditLog({ db, logger, metrics, owner: "gateway", ...options.audit });

  const nonces = new NonceStore(db, options.nonceTtlSeconds);
  const signIn = new SignInService(
    {
      domain: options.siweDomain,
      uri: options.siweUri,
      chainId: options.chainId,
      jwtSecret: options.jwtSecret,
      jwtTtlSeconds: options.jwtTtlSeconds,
      nonceTtlSeconds: options.nonceTtlSeconds,
    },
    nonces,
    createSignatureVerifier(options.rpcUrl),
  );
  const cleanup = setInterval(() => {
    nonces.deleteExpired().catch((error: unknown) => logger.warn({ err: error }, "nonce cleanup failed"));
  }, 60_000);
  cleanup.unref();

  const urls = { ...options.subgraphUrls, ...deps.subgraphUrls };
  // The answer cache sees the audit entries and the data versions of subgraphs in this process only.
  let everySubgraphLocal = true;
  const gateway = new ApolloGateway({
    supergraphSdl: deps.supergraphSdl,
    buildService: ({ name, url }) => {
      const local = deps.localSubgraphs?.[name];
      if (!local) everySubgraphLocal = false;
      return local
        ? new InProcessDataSource(local, options.subgraphSecret)
        : new ViewerContextDataSource({ url: urls[name] ?? url }, options.subgraphSecret);
    },
  });

  const operationNames = new Set<string>();
  const metricsPlugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      const started = performance.now();
      return {
        async didResolveOperation({ operation, contextValue }) {
          contextValue.outcome.operationType = operation?.operation;
        },
        async didEncounterErrors(requestContext) {
          for (const error of requestContext.errors) {
            metrics.errors.inc({ code: String(error.extensions?.code ?? "INTERNAL_SERVER_ERROR") });
          }
        },
        async willSendResponse(requestContext) {
          const operation = operationLabel(
            requestContext.operationName ?? requestContext.request.operationName,
            operationNames,
          );
          metrics.duration.observe({ operation }, (performance.now() - started) / 1000);
          metrics.requests.inc({ operation, status: String(requestContext.response.http.status ?? 200) });
        },
      };
    },
  };

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    maxRecursiveSelections: true,
    plugins: [
      limitsPlugin<GatewayContext>(options.limits),
      // An API key's viewer: refused before any subgraph is asked (the subgraphs check again).
      deliveryScopePlugin<GatewayContext>(),
      metricsPlugin,
    ],
    formatError: (formatted, error) => formatGatewayError(formatted, error, common.logger),
  });
  await apollo.start();
  const answers = everySubgraphLocal ? deps.answers : undefined;
  if (deps.answers && !answers) logger.warn("answer cache off: not every subgraph runs in this process");

  const tokens = new AccessTokenVerifier({ secret: options.jwtSecret, issuer: options.siweDomain });

  /**
   * The account the bearer token names, verified once per request (for the per-account limits and the
   * viewer): a wallet session (JWT), or an organization's API key (`cck_…`: the account limited to event
   * delivery, `scope`). Null without a valid token: the request is anonymous, and the header tells the
   * client to sign in again.
   */
  async function authenticate(req: IncomingMessage, res: ServerResponse): Promise<Principal | null> {
    const token = bearerToken(req.headers.authorization);
    if (!token) return null;
    try {
      if (isApiKey(token)) {
        const key = await authenticateApiKey(db, token);
        if (!key) throw new UnauthenticatedError("Invalid, revoked or expired API key.");
        return { address: key.owner, scope: "delivery" };
      }
      return { address: tokens.verify(token).address };
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      res.setHeader(
        "www-authenticate",
        `Bearer error="invalid_token", error_description="${error.shortMessage}"`,
      );
      return null;
    }
  }

  /** For the REST routes (FHIR, documents): a wallet session or anonymous; an API key is outside its scope. */
  async function sessionOnly(req: IncomingMessage, res: ServerResponse, what: string) {
    const principal = await authenticate(req, res);
    if (principal?.scope) throw new GatewayError("FORBIDDEN", outsideScopeMessage(what));
    return contextFor(requestIdOf(req, res), principal);
  }

  /** The client's id, when short and plain (it reaches the audit log); otherwise one of ours. */
  function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
    const requestId = requestIdFrom(req.headers["x-request-id"], randomUUID);
    res.setHeader("x-request-id", requestId);
    return requestId;
  }

  async function contextFor(requestId: string, principal: Principal | null): Promise<GatewayContext> {
    const viewer: Viewer = principal ? await loadViewer(db, principal.address) : anonymousViewer;
    if (principal?.scope && viewer.kind === "account") viewer.scope = principal.scope;
    return { viewer, requestId, outcome: { unversioned: false } };
  }

  /** The answer cache's hooks for one request, counting the requests it answers as Apollo's do. */
  function answerHooks(
    principal: Principal | null,
    requestId: string,
    context: () => GatewayContext | undefined,
  ): AnswerHooks | undefined {
    if (!answers || !principal) return undefined;
    // Kept per principal: a key's answers apart from its account's session's, so that neither is served
    // the other's (a session's answer may hold what the key may not ask for).
    const owner = principal.scope ? `${principal.address}#${principal.scope}` : principal.address;
    const hooks = answers.forRequest(owner, requestId, () => {
      const outcome = context()?.outcome;
      return outcome?.operationType === "query" && !outcome.unversioned;
    });
    return {
      async lookup(body) {
        const started = performance.now();
        const answer = await hooks.lookup(body);
        if (answer) {
          const name = (body as { operationName?: string }).operationName;
          const operation = operationLabel(name, operationNames);
          metrics.duration.observe({ operation }, (performance.now() - started) / 1000);
          metrics.requests.inc({ operation, status: String(answer.status) });
        }
        return answer;
      },
      settle: hooks.settle,
    };
  }

  const limiter = new RateLimiter(options.limits.rates, common.metrics);
  const precheck = requestPrecheck(options.limits, (code) => metrics.errors.inc({ code }));

  const hub = new EventHub();
  // Also stopped by the shutdown's signal, before the pool ends: a start-up failing below leaves no `stop()`.
  const feed = deps.subscriptions
    ? startEventFeed({ db, hub, logger, metrics, signal: common.shutdown.signal })
    : undefined;

  const router = createRouter();
  router.all(graphqlPath, async (req, res) => {
    const principal = await authenticate(req, res);
    const checks: [LimitName, string | null][] = [
      ["graphql_address", clientAddress(req)],
      ["graphql_account", principal?.address ?? null],
    ];
    if (!limiter.admitHttp(res, checks, "requests")) return;
    const requestId = requestIdOf(req, res);
    let context: GatewayContext | undefined;
    await executeGraphQL(
      apollo,
      req,
      res,
      async () => {
        context = await contextFor(requestId, principal);
        return context;
      },
      {
        maxBodyBytes: options.limits.maxBodyBytes,
        precheck,
        answers: answerHooks(principal, requestId, () => context),
      },
    );
  });
  router.on("POST", "/auth/nonce", async (req, res) => {
    if (!limiter.admitHttp(res, [["nonce_address", clientAddress(req)]], "sign-in nonces", "rest")) return;
    sendJson(res, 200, await signIn.issueNonce(), { "cache-control": "no-store" });
  });
  router.on("POST", "/auth/verify", async (req, res) => {
    if (!limiter.admitHttp(res, [["verify_address", clientAddress(req)]], "sign-in attempts", "rest")) return;
    const body = (await readJsonBody(req, 16_384)) as { message?: unknown; signature?: unknown } | undefined;
    const result = await signIn
      .verify({ message: body?.message, signature: body?.signature })
      .catch((error) => {
        if (error instanceof SignInError) metrics.signIns.inc({ result: error.reason.toLowerCase() });
        throw error;
      });
    // Only valid signatures count against the account: nobody can lock another account out.
    if (!limiter.admitHttp(res, [["verify_account", result.address]], "sign-ins", "rest")) return;
    metrics.signIns.inc({ result: "ok" });
    sendJson(res, 200, result, { "cache-control": "no-store" });
  });
  // Public: ok or not, nothing else (queries need the database). The checks, the live feed's state and
  // /metrics are on the operator port (main.ts), not here.
  const health = async (_req: IncomingMessage, res: ServerResponse) => {
    const ok = await db.query("SELECT 1").then(
      () => true,
      () => false,
    );
    sendJson(res, ok ? 200 : 503, { ok });
  };
  router.all("/health", health);
  router.all("/healthz", health);
  if (deps.documents) {
    const context = (req: IncomingMessage, res: ServerResponse) => sessionOnly(req, res, "documents");
    addDocumentRoutes(router, { db, audit, config: deps.documents, context });
  }
  // FHIR R4 (fhir/routes.ts): the same sign-in, policy and audit log as GraphQL; rate-limited per address.
  addFhirRoutes(router, {
    db,
    audit,
    log: logger,
    context: (req, res) => sessionOnly(req, res, "FHIR"),
    admit: (req, res) =>
      limiter.admitHttp(res, [["graphql_address", clientAddress(req)]], "requests", "rest"),
  });
  const notFound = `Not found: use /graphql, /auth/nonce, /auth/verify, /fhir/R4${deps.documents ? ", /documents" : ""}.`;

  const server = createServer((req, res) => {
    res.setHeader("access-control-allow-origin", "*");
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "content-type, authorization, x-request-id, apollo-require-preflight",
        "access-control-max-age": "600",
      });
      return void res.end();
    }
    void dispatch(router, req, res, { log: logger, shape: "rest", notFound });
  });

  const subscriptions = feed
    ? startSubscriptionServer({
        httpServer: server,
        path: graphqlPath,
        schema: createSubscriptionSchema({
          supergraphSdl: deps.supergraphSdl,
          db,
          audit,
          hub,
          metrics,
          logger,
        }),
        db,
        jwtSecret: options.jwtSecret,
        issuer: options.siweDomain,
        logger,
        limiter,
      })
    : undefined;

  const base = await listen(server, deps.port ?? options.port, options.host);
  logger.info({ url: `${base}${graphqlPath}`, subscriptions: !!feed }, "gateway listening");

  let stopping: Promise<void> | undefined;
  return {
    url: base,
    graphqlUrl: `${base}${graphqlPath}`,
    wsUrl: `${base.replace(/^http/, "ws")}${graphqlPath}`,
    server,
    audit,
    subscriptionsReady: feed?.ready ?? Promise.resolve(),
    liveSubscriptions: () => hub.size,
    checks: feed ? { subscriptions: async () => ({ ok: feed.isRunning() }) } : {},
    stop() {
      stopping ??= (async () => {
        clearInterval(cleanup);
        await subscriptions?.close();
        await closeServer(server);
        await apollo.stop();
        await feed?.stop();
        if (ownAudit) await audit.stop();
      })();
      return stopping;
    },
  };
}

/** Clients see a code and a message; internal errors are logged and answered without details. */
export function formatGatewayError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Common<unknown>["logger"],
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  const original = (error as { originalError?: unknown } | undefined)?.originalError;
  if (original instanceof GatewayError) {
    return { ...formatted, message: original.shortMessage, extensions: { code: original.code } };
  }
  if (typeof code !== "string" || code === "INTERNAL_SERVER_ERROR") {
    logger.error({ err: original ?? error }, "gateway error");
    return {
      message: "Internal server error.",
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  }
  const { serviceName: _serviceName, stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
  return { ...formatted, extensions };
}
