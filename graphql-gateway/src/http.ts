import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import type { Logger } from "@carechain/common";
import FindMyWay from "find-my-way";
import type { GraphQLError } from "graphql";
import { GatewayError, SignInError } from "./errors.ts";
import type { AnswerHooks, PreparedAnswer } from "./gateway/answer-cache.ts";

/**
 * Reads a JSON body of at most `limit` bytes (a larger Content-Length is refused before reading);
 * undefined for an empty body, throws GatewayError PAYLOAD_TOO_LARGE / BAD_REQUEST.
 */
export async function readJsonBody(req: IncomingMessage, limit = 1_000_000): Promise<unknown> {
  const tooLarge = () =>
    new GatewayError("PAYLOAD_TOO_LARGE", `Request body too large: at most ${limit} bytes.`);
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new GatewayError("BAD_REQUEST", "Request body is not valid JSON.");
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(body));
}

/**
 * The one answer to a failed request: a GatewayError's status, code and message, as `{ error }` (with a
 * sign-in's `reason`) or, on GraphQL paths, `{ errors }`; anything else is logged and answered 500 without
 * details.
 */
export function sendError(res: ServerResponse, error: unknown, log: Logger, shape: "rest" | "graphql"): void {
  if (res.headersSent) return void res.end();
  if (!(error instanceof GatewayError)) log.error({ err: error }, "request failed");
  const known =
    error instanceof GatewayError
      ? error
      : new GatewayError("INTERNAL_SERVER_ERROR", "Internal server error.");
  sendJson(res, known.status, errorBody(known, shape));
}

function errorBody(error: GatewayError, shape: "rest" | "graphql") {
  const { code, shortMessage: message } = error;
  if (shape === "graphql") return { errors: [{ message, extensions: { code } }] };
  return { error: { code, message, ...(error instanceof SignInError ? { reason: error.reason } : {}) } };
}

export type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

/** A router (find-my-way, fastify's) whose handlers `dispatch` runs. */
export const createRouter = (): Router => FindMyWay();

/**
 * Runs the route of a request; METHOD_NOT_ALLOWED (with `Allow`) when its path takes other methods,
 * NOT_FOUND (`notFound`) when no route has it. Every failure is answered by `sendError`.
 */
export async function dispatch(
  router: Router,
  req: IncomingMessage,
  res: ServerResponse,
  options: { log: Logger; shape: "rest" | "graphql"; notFound: string },
): Promise<void> {
  try {
    const url = req.url ?? "/";
    const found = router.find((req.method ?? "GET") as FindMyWay.HTTPMethod, url);
    if (found) return await found.handler(req, res, found.params, found.store, found.searchParams);
    const allowed = (["GET", "POST"] as const).filter((method) => router.find(method, url));
    if (allowed.length === 0) throw new GatewayError("NOT_FOUND", options.notFound);
    res.setHeader("allow", allowed.join(", "));
    throw new GatewayError("METHOD_NOT_ALLOWED", `Use ${allowed.join(" or ")}.`);
  } catch (error) {
    sendError(res, error, options.log, options.shape);
  }
}

/** A precheck's refusal as the answer to send: its HTTP status (400 unless it says) and a GraphQL error body. */
export function refusalAnswer(refusal: GraphQLError): {
  status: number;
  result: { errors: { message: string; extensions: Record<string, unknown> }[] };
} {
  const { http, ...extensions } = refusal.extensions as { http?: { status?: number } };
  return { status: http?.status ?? 400, result: { errors: [{ message: refusal.message, extensions }] } };
}

/**
 * Hands one HTTP request to Apollo Server (what `startStandaloneServer` does, without Express), so that
 * the same Node server can also answer sign-in, health, metrics and WebSocket upgrades.
 */
export async function executeGraphQL<TContext extends BaseContext>(
  server: ApolloServer<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  context: () => Promise<TContext>,
  options: {
    /** Largest POST body (413 PAYLOAD_TOO_LARGE above it). */
    maxBodyBytes?: number;
    /** The body, when the caller has read it already (the subgraphs check it against the viewer context). */
    body?: unknown;
    /** Refuses a request before Apollo Server parses and validates it (limits.ts `requestPrecheck`). */
    precheck?: (request: { body: unknown; search: string }) => GraphQLError | null;
    /** The answer cache of this request (gateway/answer-cache.ts): asked before executing, told after. */
    answers?: AnswerHooks;
  } = {},
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  let body: unknown = options.body;
  if (method === "POST" && !("body" in options)) {
    try {
      body = await readJsonBody(req, options.maxBodyBytes);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return sendJson(res, error.status, errorBody(error, "graphql"));
    }
  }
  // Before the precheck: a kept answer is the answer to this very body, which passed it.
  const cached = method === "POST" ? await options.answers?.lookup(body) : undefined;
  if (cached) {
    for (const [key, value] of cached.headers) res.setHeader(key, value);
    res.statusCode = cached.status;
    res.end(cached.body);
    return;
  }
  let answer: PreparedAnswer | undefined;
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    const refusal = options.precheck?.({ body, search: url.search });
    if (refusal) {
      const { status, result } = refusalAnswer(refusal);
      return sendJson(res, status, result);
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
    }
    const httpGraphQLRequest: HTTPGraphQLRequest = { method, headers, search: url.search, body };
    const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context });
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      answer = { status: res.statusCode, headers: [...response.headers], body: response.body.string };
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  } finally {
    // Told of every request it looked up, answered or not, so that nothing it holds for one is left.
    options.answers?.settle(answer);
  }
}

export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

/** Stops accepting, lets running requests finish (at most `graceMs`), then closes what is left. */
export function closeServer(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
