// Queries over HTTP and subscriptions over graphql-ws against the gateway. A FORBIDDEN answer is data for
// the page ("you have no access to this"), not an exception; an unreachable gateway is an exception whose
// message says what to do.
import type { TypedDocumentString } from "./generated/graphql.ts";

export type GraphQLErrorItem = {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string };
};

export type QueryAnswer<TResult> = {
  data: TResult | null;
  errors: GraphQLErrorItem[];
  /** True when any part of the answer was refused by the access policy. */
  forbidden: boolean;
};

export class GatewayUnreachableError extends Error {
  constructor(url: string) {
    super(
      `The CareChain gateway at ${url} does not answer. Check your connection and try again in a moment.`,
    );
    this.name = "GatewayUnreachableError";
  }
}

export class SessionExpiredError extends Error {
  constructor() {
    super("Your sign-in has expired: sign in again.");
    this.name = "SessionExpiredError";
  }
}

export async function runQuery<TResult, TVariables>(
  gatewayUrl: string,
  token: string | undefined,
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
): Promise<QueryAnswer<TResult>> {
  let response: Response;
  try {
    response = await fetch(`${gatewayUrl}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query: document.toString(), variables }),
    });
  } catch {
    throw new GatewayUnreachableError(gatewayUrl);
  }
  if (response.status === 401) throw new SessionExpiredError();
  let body: { data?: TResult | null; errors?: GraphQLErrorItem[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new GatewayUnreachableError(gatewayUrl);
  }
  const errors = body.errors ?? [];
  const forbidden = errors.some((e) => e.extensions?.code === "FORBIDDEN");
  const other = errors.filter((e) => e.extensions?.code !== "FORBIDDEN");
  if (other.some((e) => e.extensions?.code === "UNAUTHENTICATED")) throw new SessionExpiredError();
  if (!body.data && other.length > 0) throw new Error(other[0]!.message);
  return { data: body.data ?? null, errors, forbidden };
}
