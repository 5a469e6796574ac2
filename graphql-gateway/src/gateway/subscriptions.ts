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
import { type EventsArgs, subscribeEvents } from "../events/api.ts";
import { admitEvent } from "../events/delivery.ts";
import type { FeedItem } from "../events/feed-log.ts";
import { buildSchema, GraphQLError, isObjectType, Kind, parse } from "../graphql.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { type LogPosition, RequestPolicy } from "../policy/index.ts";
import { scalarResolvers } from "../subgraphs/scalars.ts";
import { apiKeyStillValid, authenticateApiKey, isApiKey } from "../webhooks/api-keys.ts";
import { deliveryScopeRefusal, isDeliveryScoped } from "../webhooks/scope.ts";
import type { EventHub } from "./event-feed.ts";
import { eventStream } from "./event-stream.ts";
import { alertEvent, recordEvent } from "./live-events.ts";
import { clientAddress, type RateLimiter, tooManyRequestsCloseCode } from "./rate-limit.ts";

type SubscriptionContext = { viewer: Viewer; requestId: string };

/**
 * The WebSocket schema: the composed supergraph's (its Subscription type comes from the subgraphs), with
 * the subscriptions served here from the event feed (alertRaised, recordAdded, and the resumable `events`),
 * each decided by the one delivery decision (events/delivery.ts) over the same policy as queries. Only subscription operations run on it (see startSubscriptionServer).
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

  /** A fresh policy (fresh facts): as of now, or as of `asOf`, a place in the log. */
  const policyFor = (ctx: SubscriptionContext, asOf?: LogPosition) =>
    new RequestPolicy({
      db: deps.db,
      viewer: ctx.viewer,
      requestId: ctx.requestId,
      audit: deps.audit,
      channel: "subscription",
      ...(asOf ? { asOf } : {}),
    });

  const field = (name: "alertRaised" | "recordAdded") => {
    const gauge = deps.metrics.subscriptions;
    const type = name === "alertRaised" ? "VitalsAlert" : "RecordAdded";
    return {
      subscribe: (_: unknown, args: { patient?: string | null }, ctx: SubscriptionContext) => {
        gauge.inc({ field: name });
        return eventStream({
          // Only this field's type queues (the hub carries every delivered type: readings are many).
          subscribe: (listener: (item: FeedItem) => void) =>
            deps.hub.subscribe((item) => {
              if (item.envelope.type === type) listener(item);
            }),
          accept: async ({ envelope: event }) => {
            if (event.type !== type) return null;
            if (args.patient && event.payload.patient !== args.patient) return null;
            // The one delivery decision (events/delivery.ts): as of the event and now, audited.
            if (!(await admitEvent((asOf) => policyFor(ctx, asOf), event))) return null;
            if (event.type === "VitalsAlert") return { alertRaised: alertEvent(event) };
            if (event.type === "RecordAdded") return { recordAdded: recordEvent(event) };
            return null;
          },
          onEnd: () => gauge.dec({ field: name }),
          logger: deps.logger,
        });
      },
    } satisfies Partial<GraphQLFieldConfig<unknown, SubscriptionContext>>;
  };
  // The events subscription: resumable with a cursor (replays what was missed, then live).
  const events = {
    subscribe: async (_: unknown, args: EventsArgs, ctx: SubscriptionContext) => {
      const iterator = await subscribeEvents(
        { db: deps.db, logger: deps.logger, subscribe: (listener) => deps.hub.subscribe(listener) },
        policyFor(ctx),
        args,
        () => deps.metrics.subscriptions.dec({ field: "events" }),
      );
      deps.metrics.subscriptions.inc({ field: "events" });
      return iterator;
    },
  } satisfies Partial<GraphQLFieldConfig<unknown, SubscriptionContext>>;
  if (fields.events) Object.assign(fields.events, events);
  Object.assign(fields.alertRaised!, field("alertRaised"));
  Object.assign(fields.recordAdded!, field("recordAdded"));
  return schema;
}

/** How often a connection opened with an API key checks that the key is still valid (not revoked). */
export const apiKeyRecheckMs = 10_000;

/**
 * graphql-ws on the gateway's HTTP server, at the GraphQL path. The client signs in first and passes the
 * token in `connectionParams` ({ authorization: "Bearer <token>" }), or an organization's API key the same
 * way (then only the delivery scope's subscriptions: `events`); without a valid token the connection is
 * refused (4403), and it is closed (4401) when the token expires, or the key expires or is revoked
 * (checked every `apiKeyRecheckMs`).
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
          const key = isApiKey(token) ? await authenticateApiKey(options.db, token) : undefined;
          if (key === null) return false;
          const { address, expiresAt } = key
            ? { address: key.owner, expiresAt: key.expiresAt }
            : await verifyAccessToken({ secret: options.jwtSecret, token, issuer: options.issuer });
          const accountRefusal = options.limiter?.admitSocketAccount(ctx, address);
          if (accountRefusal) return tooMany(accountRefusal);
          const viewer = await loadViewer(options.db, address);
          if (key && viewer.kind === "account") viewer.scope = "delivery";
          ctx.extra.viewer = viewer;
          ctx.extra.connectionId = randomUUID();
          const timers: NodeJS.Timeout[] = [];
          // setTimeout takes at most 2^31-1 ms; a key expiring later is caught by the recheck.
          const expiresIn = expiresAt ? expiresAt.getTime() - Date.now() : null;
          if (expiresIn !== null && expiresIn < 2 ** 31)
            timers.push(
              setTimeout(
                () => ctx.extra.socket.close(4401, key ? "API key expired" : "Token expired"),
                expiresIn,
              ),
            );
          if (key) {
            // A revoked key ends its connections too, within one recheck.
            timers.push(
              setInterval(() => {
                apiKeyStillValid(options.db, key.keyId).then(
                  (valid) => {
                    if (!valid) ctx.extra.socket.close(4401, "API key revoked or expired");
                  },
                  (error: unknown) => options.logger.warn({ err: error }, "API key recheck failed"),
                );
              }, apiKeyRecheckMs),
            );
          }
          for (const timer of timers) timer.unref();
          ctx.extra.socket.once("close", () => {
            for (const timer of timers) clearTimeout(timer);
          });
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
        if (isDeliveryScoped(viewer)) {
          const scopeRefusal = outsideScope(options.schema, payload.query);
          if (scopeRefusal) return [scopeRefusal];
        }
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

/** The delivery scope's refusal of a subscription document (null when allowed or when it does not parse). */
function outsideScope(schema: GraphQLSchema, query: string): GraphQLError | null {
  try {
    return deliveryScopeRefusal(schema, parse(query));
  } catch {
    return null; // graphql-ws answers the syntax error itself
  }
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
