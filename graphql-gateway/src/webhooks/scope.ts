import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import type { DocumentNode, GraphQLSchema } from "graphql";
import type { Viewer } from "../auth/viewer.ts";
import { GatewayError } from "../errors.ts";
import { GraphQLError, TypeInfo, visit, visitWithTypeInfo } from "../graphql.ts";

/**
 * What an API key (scope "delivery") may ask for: the events (pull and subscription), who it is, and its
 * organization's webhook subscriptions. Every other field of these types is refused before anything runs,
 * at the gateway (HTTP and graphql-ws) and again in each subgraph (which also refuses entity fetches: no
 * allowed field leads to another subgraph). Fields of other types are reachable only through these.
 */
const deliveryFields: Record<string, ReadonlySet<string>> = {
  Query: new Set(["me", "events", "webhookSubscriptions", "webhookSubscription", "__typename"]),
  Mutation: new Set([
    "createWebhookSubscription",
    "pauseWebhookSubscription",
    "resumeWebhookSubscription",
    "deleteWebhookSubscription",
    "redeliverWebhookEvents",
    "__typename",
  ]),
  Subscription: new Set(["events"]),
  // Not the viewer's patient, doctor or organization entries: those lead to patients' data.
  Viewer: new Set(["address", "role", "organizationKind", "__typename"]),
};

/** True for a viewer authenticated by an API key: limited to event delivery. */
export function isDeliveryScoped(viewer: Viewer | undefined): boolean {
  return viewer?.kind === "account" && viewer.scope === "delivery";
}

/** The message every refusal of a key outside its scope carries. */
export function outsideScopeMessage(what: string): string {
  return `API keys are for event delivery (events, webhook subscriptions, me): ${what} needs a wallet session; sign in with the organization's wallet.`;
}

/** FORBIDDEN (HTTP 403) when the document asks for any field outside the delivery scope; null otherwise. */
export function deliveryScopeRefusal(schema: GraphQLSchema, document: DocumentNode): GraphQLError | null {
  const typeInfo = new TypeInfo(schema);
  let refused: string | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        if (refused) return false;
        const parent = typeInfo.getParentType()?.name;
        const allowed = parent ? deliveryFields[parent] : undefined;
        if (allowed && !allowed.has(node.name.value)) refused = `${parent}.${node.name.value}`;
        return undefined;
      },
    }),
  );
  if (!refused) return null;
  const error = new GatewayError("FORBIDDEN", outsideScopeMessage(refused));
  return new GraphQLError(error.shortMessage, {
    originalError: error,
    extensions: { code: error.code, http: { status: 403 } },
  });
}

/** Refuses, before execution, an operation a delivery-scoped viewer may not run (gateway and subgraphs). */
export function deliveryScopePlugin<
  TContext extends BaseContext & { viewer: Viewer },
>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, schema, document }) {
          if (!isDeliveryScoped(contextValue.viewer)) return;
          const refusal = deliveryScopeRefusal(schema, document);
          if (refusal) throw refusal;
        },
      };
    },
  };
}
