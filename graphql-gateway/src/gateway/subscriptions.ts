import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { EventEnvelope, Logger } from "@carechain/common";
import type { GraphQLFieldConfig, GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { type AuditSink, requestIdFrom } from "../audit/audit-log.ts";
import { bearerToken, verifyAccessToken } from "../auth/jwt.ts";
import { loadViewer, type Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { buildSchema, GraphQLError, isObjectType } from "../graphql.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { RequestPolicy } from "../policy/index.ts";
import { scalarResolvers } from "../subgraphs/scalars.ts";
import type { EventHub, LiveEvent } from "./event-feed.ts";
import { clientAddress, type RateLimiter, tooManyRequestsCloseCode } from "./rate-limit.ts";

const subscriptionTypeDefs = /* GraphQL */ `
  "An Ethereum address: 0x and 40 hex digits, returned in lower case."
  scalar Address
  "An instant as an ISO-8601 string in UTC."
  scalar DateTime

  type Query {
    "Queries go to POST /graphql; this WebSocket endpoint serves subscriptions."
    subscriptionsOnly: Boolean
  }

  type Subscription {
    """
    Alerts as they are indexed, for whoever may read them: the patient, the alert's designated recipients,
    and READ_VITALS grantees or emergency doctors. Optionally for one patient.
    """
    alertRaised(patient: Address): AlertEvent!
    "Records as they are added, for the patient and READ_RECORDS grantees or emergency doctors."
    recordAdded(patient: Address): RecordEvent!
  }

  type AlertEvent {
    "The event id (chain id, block hash, log index)."
    id: ID!
    patient: Address!
    device: Address!
    measuredAt: DateTime!
    systolic: Int!
    diastolic: Int!
    recipients: [Address!]!
    blockNumber: Int!
    raisedAt: DateTime!
    "True when a reorg removed the event delivered earlier with this id: undo it."
    retracted: Boolean!
  }

  type RecordEvent {
    "The event id (chain id, block hash, log index)."
    id: ID!
    recordId: ID!
    patient: Address!
    author: Address!
    submitter: Address!
    typeCode: Int!
    contentHash: String!
    storagePointer: String!
    version: Int!
    rootRecordId: ID!
    previousRecordId: ID
    blockNumber: Int!
    addedAt: DateTime!
    "True when a reorg removed the event delivered earlier with this id: undo it."
    retracted: Boolean!
  }
`;

const zeroHash = `0x${"0".repeat(64)}`;

function alertEvent(envelope: EventEnvelope<"VitalsAlert">) {
  const payload = envelope.payload;
  return {
    id: envelope.id,
    patient: payload.patient,
    device: payload.device,
    measuredAt: new Date(Number(payload.measuredAt) * 1000),
    systolic: payload.systolic,
    diastolic: payload.diastolic,
    recipients: payload.recipients,
    blockNumber: envelope.blockNumber,
    raisedAt: new Date(envelope.blockTimestamp * 1000),
    retracted: envelope.retracted,
  };
}

function recordEvent(envelope: EventEnvelope<"RecordAdded">) {
  const payload = envelope.payload;
  return {
    id: envelope.id,
    recordId: payload.recordId,
    patient: payload.patient,
    author: payload.author,
    submitter: payload.submitter,
    typeCode: payload.recordType,
    contentHash: payload.contentHash,
    storagePointer: payload.storagePointer,
    version: payload.version,
    rootRecordId: payload.rootRecordId === zeroHash ? payload.recordId : payload.rootRecordId,
    previousRecordId: payload.previousRecordId === zeroHash ? null : payload.previousRecordId,
    blockNumber: envelope.blockNumber,
    addedAt: new Date(envelope.blockTimestamp * 1000),
    retracted: envelope.retracted,
  };
}

type SubscriptionContext = { viewer: Viewer; requestId: string };

/**
 * Async iterator over the hub's events that pass `accept` (the policy), in order. `return()` (the client
 * completes, or disconnects) ends it at once, even while it waits.
 */
function eventStream<T>(
  hub: EventHub,
  accept: (event: LiveEvent) => Promise<T | null>,
  onEnd: () => void,
  logger: Logger,
  maxQueued = 1000,
): AsyncIterableIterator<T> {
  const pending: LiveEvent[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  let draining = false;
  const ready: T[] = [];

  const unsubscribe = hub.subscribe((event) => {
    if (done) return;
    if (pending.length >= maxQueued) {
      pending.shift();
      logger.warn("subscriber too slow: dropped its oldest queued event");
    }
    pending.push(event);
    void drain();
  });

  async function drain() {
    if (draining) return;
    draining = true;
    try {
      while (!done && pending.length > 0) {
        const value = await accept(pending.shift()!).catch((error: unknown) => {
          // The database is unreachable, say: deny (never deliver unchecked) and say so.
          logger.error({ err: error }, "subscription policy check failed; event not delivered");
          return null;
        });
        if (value === null || done) continue;
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value, done: false });
        } else {
          ready.push(value);
        }
      }
    } finally {
      draining = false;
    }
  }

  function finish(): IteratorResult<T> {
    if (!done) {
      done = true;
      unsubscribe();
      onEnd();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return { value: undefined, done: true };
  }

  return {
    next: () => {
      if (ready.length > 0) return Promise.resolve({ value: ready.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
    return: () => Promise.resolve(finish()),
    throw: (error?: unknown) => {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** The WebSocket schema: the two subscriptions, each filtered by the same policy as queries. */
export function createSubscriptionSchema(deps: {
  logger: Logger;
  db: Database;
  audit: AuditSink;
  hub: EventHub;
  metrics: GatewayMetrics;
}): GraphQLSchema {
  const schema = buildSchema(subscriptionTypeDefs);
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
        return eventStream(
          deps.hub,
          async (event) => {
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
          () => gauge.dec({ field: name }),
          deps.logger,
        );
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
