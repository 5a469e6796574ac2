import { useQuery } from "@tanstack/react-query";
import { useSession } from "../session.tsx";
import { type QueryAnswer, runQuery } from "./client.ts";
import type { TypedDocumentString } from "./generated/graphql.ts";

/** A gateway query as the signed-in account, cached by react-query under its text and variables. */
export function useGatewayQuery<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  variables: TVariables,
) {
  const { config, token } = useSession();
  return useQuery<QueryAnswer<TResult>>({
    queryKey: [document.toString(), variables, token],
    queryFn: () => runQuery(config.gatewayUrl, token, document, variables),
    retry: false,
  });
}

/** The same query once, for polling until a write shows up. */
export function useGatewayFetch() {
  const { config, token } = useSession();
  return <TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables) =>
    runQuery(config.gatewayUrl, token, document, variables);
}
