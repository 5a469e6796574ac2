import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { Logger } from "@carechain/common";
import type { GraphQLFieldConfig, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type AuditSink, requestIdFrom } from "../audit/audit-log.ts";
import { bearerToken, verifyAccessToken } from "../auth/jwt.ts";
import { loadViewer, type Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { buildSchema, GraphQLError, isObjectType, Kind, parse } from "../graphql.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { RequestPolicy } from "../policy/index.ts";
import { scalarResolvers } from "../subgraphs/scalars.ts";
import type { EventHub, LiveEvent } from "./event-feed.ts";
import { eventStream } from "./event-stream.ts";
import { alertEvent, recordEvent } from "./live-events.ts";
import { clientAddress, type RateLimiter, tooManyRequestsCloseCode } from "./rate-limit.ts";

type SubscriptionContext = { viewer: Viewer; requestId: string };

/**
 * The WebSocket schema: the composed supergraph's (its Subscription type comes from the records and vitals
 * subgraphs), with the two subscriptions served here from the event feed, each filtered by the same policy
 * as queries. Only subscription operations run on it (see startSubscriptionServer).
 */
export function createSubscriptionSchema(deps: {
  supergraphSdl: string;
  logger: Logger;
  db: Database;
  audit: AuditSink;
  hub: EventHub;
  metrics: GatewayMetrics;
}): GraphQLSchema {
  const schema = buildSchema(deps.supergraphSdl);
  for (const [name, scalar] of Object.entries(scalarResolvers)) {
    const type = schema.getType(name);
    if (type && "serialize" in type)
      Object.assign(type, {
        serialize: scalar.serialize,
        parseValue: scalar.parseValue,
        parseLiteral: scalar.parseLiteral,
      });
  }
  const subscription = schema.getSubscriptionType();
  if (!subscription || !isObjectType(subscription))
    throw new Error("subscription schema has no Subscription type");
  const fields = subscription.getFields();

  /** A fresh policy (fresh facts): as of now, or as of `event`'s place in the log. */
  const policyFor = (ctx: SubscriptionContext, event?: LiveEvent) =>
    new RequestPolicy({
      db: deps.db,
      viewer: ctx.viewer,
      requestId: ctx.requestId,
      audit: deps.audit,
      channel: "subscription",
      ...(event ? { asOf: { blockNumber: event.blockNumber, logIndex: event.logIndex } } : {}),
    });

  const field = (name: "alertRaised" | "recordAdded") => {
    const gauge = deps.metrics.subscriptions;
    return {
      subscribe: (_: unknown, args: { patient?: string | null }, ctx: SubscriptionContext) => {
        gauge.inc({ field: name });
        return eventStream({
          subscribe: (listener: (event: LiveEvent) => void) => deps.hub.subscribe(listener),
          accept: async (event) => {
            if (args.patient && event.payload.patient !== args.patient) return null;
            // Delivered only when the viewer may read it both as of the event's place in the log (a
            // revocation before it stops it; a grant after it does not reach back) and now (a revocation
            // since then stops it too). The feed hands over events only once the projector has committed
            // them and everything before them, so the history the first decision reads is complete.
            const policy = policyFor(ctx);
            const then = policyFor(ctx, event);
            if (name === "alertRaised" && event.type === "VitalsAlert") {
              const decision = await policy.canReadAlert(event.payload);
              if (!decision.allowed || !(await then.canReadAlert(event.payload)).allowed) return null;
              policy.recordRead(event.payload.patient, "alerts", decision);
              await policy.settled(); // not delivered unaudited: a failed audit write drops it
              return { alertRaised: alertEvent(event) };
            }
            if (name === "recordAdded" && event.type === "RecordAdded") {
              const decision = await policy.canRead(event.payload.patient, "records");
              if (!decision.allowed || !(await then.canRead(event.payload.patient, "records")).allowed)
                return null;
              policy.recordRead(event.payload.patient, "records", decision);
              await policy.settled();
              return { recordAdded: recordEvent(event) };
            }
            return null;
          },
          onEnd: () => gauge.dec({ field: name }),
          logger: deps.logger,
        });
      },
    } satisfies Partial<GraphQLFieldConfig<unknown, SubscriptionContext>>;
  };
  Object.assign(fields.alertRaised!, field("alertRaised"));
  Object.assign(fields.recordAdded!, field("recordAdded"));
  return schema;
}

/**
 * graphql-ws on the gateway's HTTP server, at the GraphQL path. The client signs in first and passes the
 * token in `connectionParams` ({ authorization: "Bearer <token>" }); without a valid token the connection
 * is refused (4403), and it is closed (4401) when the token expires.
 */
export function startSubscriptionServer(options: {
  httpServer: Server;
  path: string;
  schema: GraphQLSchema;
  db: Database;
  jwtSecret: string;
  issuer: string;
  logger: Logger;
  /** Connection and subscription limits (rate-limit.ts); none when absent. */
  limiter?: RateLimiter;
}): { close: () => Promise<void> } {
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path });
  const disposable = useServer<Record<string, unknown>, { viewer: Viewer; connectionId: string }>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const from = clientAddress(ctx.extra.request);
        const tooMany = (reason: string) => {
          // Our close code before graphql-ws's 4403 (the first close wins).
          ctx.extra.socket.close(tooManyRequestsCloseCode, reason);
          return false;
        };
        const addressRefusal = options.limiter?.admitSocketAddress(from);
        if (addressRefusal) return tooMany(addressRefusal);
        const params = ctx.connectionParams ?? {};
        const header = typeof params.authorization === "string" ? params.authorization : undefined;
        const token = bearerToken(header) ?? (typeof params.token === "string" ? params.token : undefined);
        if (!token) return false;
        try {
          const { address, expiresAt } = await verifyAccessToken({
            secret: options.jwtSecret,
            token,
            issuer: options.issuer,
          });
          const accountRefusal = options.limiter?.admitSocketAccount(ctx, address);
          if (accountRefusal) return tooMany(accountRefusal);
          ctx.extra.viewer = await loadViewer(options.db, address);
          ctx.extra.connectionId = randomUUID();
          const timer = setTimeout(
            () => ctx.extra.socket.close(4401, "Token expired"),
            expiresAt.getTime() - Date.now(),
          );
          timer.unref();
          ctx.extra.socket.once("close", () => clearTimeout(timer));
          return true;
        } catch (error) {
          options.logger.debug({ err: error }, "subscription connection refused");
          return false;
        }
      },
      onSubscribe: (ctx, _id, payload) => {
        if (typeof payload.query !== "string" || payload.query.length > 10_000) {
          return [
            new GraphQLError("Subscription query missing or too long.", {
              extensions: { code: "BAD_USER_INPUT" },
            }),
          ];
        }
        if (hasOtherOperations(payload.query)) {
          return [
            new GraphQLError("Queries go to POST /graphql; this WebSocket endpoint serves subscriptions.", {
              extensions: { code: "BAD_USER_INPUT" },
            }),
          ];
        }
        const viewer = ctx.extra.viewer;
        const refusal =
          viewer?.kind === "account" ? options.limiter?.admitSubscription(ctx, viewer.address) : null;
        if (refusal) return [refusal];
      },
      context: (ctx, id): SubscriptionContext => ({
        viewer: ctx.extra.viewer!,
        // The subscription id is the client's: checked before it can reach the audit log.
        requestId: `ws:${ctx.extra.connectionId}:${requestIdFrom(id, () => randomUUID(), 64)}`,
      }),
    },
    wsServer,
  );
  return {
    close: async () => {
      await disposable.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** True for a query or mutation: the supergraph's other root types have no resolvers on the socket. */
function hasOtherOperations(query: string): boolean {
  try {
    return parse(query).definitions.some(
      (definition) =>
        definition.kind === Kind.OPERATION_DEFINITION && definition.operation !== "subscription",
    );
  } catch {
    return false; // graphql-ws answers the syntax error itself
  }
}
