import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createWebhookHandler,
  EventPuller,
  EventsRequestRefusedError,
  type EventType,
  type FeedEvent,
  memorySeenEvents,
  type WebhookOutcome,
} from "@carechain/consumer";
import { signIn } from "@carechain/gateway/client";
import { eventTypes } from "@carechain/gateway/events";
import type { LocalAccount } from "viem";

/**
 * What an insurer's integration does, start to end: a wallet session only to mint an API key; with the key,
 * catch up on the events it may see through the pull API, then subscribe a webhook from exactly where the
 * pull stopped (no gap, no duplicate) and verify every delivery before trusting it.
 */
export type InsurerReceiverOptions = {
  /** The gateway's base URL (http://host:port). */
  gatewayUrl: string;
  account: Pick<LocalAccount, "address" | "signMessage">;
  /** Where this receiver listens (the subscription's URL points here). Default 127.0.0.1, any free port. */
  host?: string;
  port?: number;
  /** Event types to subscribe to (default: all; the policy still decides each event). */
  types?: readonly EventType[];
  /** First pull what happened before (default true); false: only what happens from now on. */
  history?: boolean;
  /** One line per event or refusal. */
  print: (line: string) => void;
};

export type RunningInsurerReceiver = {
  url: string;
  subscriptionId: string;
  apiKeyId: string;
  /** Events printed so far, by how they came. */
  counts: { pulled: number; webhook: number; duplicate: number; refused: number };
  /** Stops listening, deletes the subscription and revokes the key. */
  stop(): Promise<void>;
};

type GraphQLAnswer<T> = { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };

async function graphql<T>(gatewayUrl: string, token: string, query: string, variables = {}): Promise<T> {
  const response = await fetch(`${gatewayUrl.replace(/\/+$/, "")}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLAnswer<T>;
  const error = body.errors?.[0];
  if (error || !body.data)
    throw new EventsRequestRefusedError(
      error?.extensions?.code ?? `HTTP_${response.status}`,
      response.status,
      error?.message ?? "No data.",
    );
  return body.data;
}

const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex);
/** "31337:0x<block hash>:5" -> "31337:0xab12…cdef:5" (the full id is what duplicates are dropped by). */
const shortId = (id: string) => id.replace(/0x[0-9a-f]{64}/, (hash) => short(hash));

export function formatEvent(how: string, event: FeedEvent): string {
  const time = new Date().toISOString().slice(11, 19);
  const flags = event.retracted ? "  RETRACTED (undo it)" : "";
  return `${time}  ${how.padEnd(9)} ${event.type.padEnd(23)} patient ${short(event.patient)}  block ${event.blockNumber}  id ${shortId(event.id)}${flags}`;
}

export async function startInsurerReceiver(options: InsurerReceiverOptions): Promise<RunningInsurerReceiver> {
  const { gatewayUrl, print } = options;
  const session = async () => (await signIn({ url: gatewayUrl, account: options.account })).token;
  const jwt = await session();
  const { createApiKey } = await graphql<{ createApiKey: { key: string; apiKey: { id: string } } }>(
    gatewayUrl,
    jwt,
    `mutation ($name: String!) { createApiKey(name: $name, expiresInDays: 1) { key apiKey { id } } }`,
    { name: `insurer-receiver example ${new Date().toISOString()}` },
  );
  const key = createApiKey.key;
  const counts = { pulled: 0, webhook: 0, duplicate: 0, refused: 0 };
  const seen = memorySeenEvents();

  // Listening before subscribing (the URL needs the port); until the secret is known, nothing is accepted.
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const server = createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503, { "retry-after": "1" }).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}/webhooks/carechain`;
  const closeServer = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  let subscriptionId: string;
  try {
    let after: string | null = null;
    if (options.history ?? true) {
      const puller = new EventPuller({
        url: gatewayUrl,
        token: key,
        seen,
        ...(options.types && { types: options.types }),
        onEvent: (event) => {
          counts.pulled++;
          print(formatEvent("pulled", event));
        },
      });
      while ((await puller.pullPage()).hasNextPage) {}
      after = puller.cursor ?? null;
    }
    const { createWebhookSubscription } = await graphql<{
      createWebhookSubscription: { secret: string; subscription: { id: string; types: string[] } };
    }>(
      gatewayUrl,
      key,
      `mutation ($input: CreateWebhookSubscriptionInput!) {
        createWebhookSubscription(input: $input) { secret subscription { id types } }
      }`,
      { input: { url, types: options.types ?? eventTypes, after } },
    );
    subscriptionId = createWebhookSubscription.subscription.id;
    handler = createWebhookHandler({
      secret: createWebhookSubscription.secret,
      seen,
      onEvent: (event) => {
        counts.webhook++;
        print(formatEvent("webhook", event));
      },
      onOutcome: (outcome: WebhookOutcome) => {
        if (outcome.duplicate) counts.duplicate++;
        if (outcome.status >= 400) {
          counts.refused++;
          print(
            `refused: HTTP ${outcome.status} ${outcome.reason}${outcome.id ? ` (${shortId(outcome.id)})` : ""}`,
          );
        }
      },
    });
  } catch (error) {
    await closeServer();
    await graphql(gatewayUrl, jwt, "mutation ($id: ID!) { revokeApiKey(id: $id) { id } }", {
      id: createApiKey.apiKey.id,
    }).catch(() => {});
    throw error;
  }

  return {
    url,
    subscriptionId,
    apiKeyId: createApiKey.apiKey.id,
    counts,
    async stop() {
      await closeServer();
      await graphql(gatewayUrl, key, "mutation ($id: ID!) { deleteWebhookSubscription(id: $id) }", {
        id: subscriptionId,
      });
      // Revoking needs a wallet session, not the key (the first one may have expired by now).
      await graphql(gatewayUrl, await session(), "mutation ($id: ID!) { revokeApiKey(id: $id) { id } }", {
        id: createApiKey.apiKey.id,
      });
    },
  };
}
