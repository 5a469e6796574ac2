// Live updates over graphql-ws (the gateway's /graphql socket), loaded only by pages that show them.
import { type Client, createClient } from "graphql-ws";
import type { TypedDocumentString } from "./generated/graphql.ts";

let client: { key: string; client: Client } | undefined;

function socketFor(gatewayUrl: string, token: string): Client {
  const key = `${gatewayUrl} ${token}`;
  if (client?.key === key) return client.client;
  void client?.client.dispose();
  const url = `${gatewayUrl.replace(/^http/, "ws")}/graphql`;
  client = {
    key,
    client: createClient({ url, connectionParams: { authorization: `Bearer ${token}` }, lazy: true }),
  };
  return client.client;
}

/** Subscribes; returns the unsubscribe function. */
export function subscribe<TResult, TVariables>(
  gatewayUrl: string,
  token: string,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
  onData: (data: TResult) => void,
  onError: (message: string) => void,
  onConnected?: () => void,
): () => void {
  const socket = socketFor(gatewayUrl, token);
  const stopListening = onConnected ? socket.on("connected", onConnected) : () => {};
  const unsubscribe = socket.subscribe<TResult>(
    { query: document.toString(), variables: variables as Record<string, unknown> },
    {
      next: (value) => {
        if (value.data) onData(value.data as TResult);
      },
      error: () => onError("Live updates are interrupted; the page still shows what was loaded."),
      complete: () => {},
    },
  );
  return () => {
    stopListening();
    unsubscribe();
  };
}
