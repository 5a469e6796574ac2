import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLRequest } from "@apollo/server";
import type { GraphQLError } from "graphql";

/**
 * Reads a JSON body of at most `limit` bytes (a larger Content-Length is refused before reading);
 * undefined for an empty body, throws HttpError 413 / 400.
 */
export async function readJsonBody(req: IncomingMessage, limit = 1_000_000): Promise<unknown> {
  const tooLarge = () => new HttpError(413, `Request body too large: at most ${limit} bytes.`);
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
    throw new HttpError(400, "Request body is not valid JSON.");
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
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

/** A GraphQL-shaped error body for answers given before Apollo Server sees the request. */
export function sendGraphQLError(res: ServerResponse, status: number, code: string, message: string) {
  sendJson(res, status, { errors: [{ message, extensions: { code } }] });
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
  } = {},
): Promise<void> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  const method = (req.method ?? "GET").toUpperCase();
  const url = new URL(req.url ?? "/", "http://localhost");
  let body: unknown = options.body;
  if (method === "POST" && !("body" in options)) {
    try {
      body = await readJsonBody(req, options.maxBodyBytes);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      const code = error.status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST";
      return sendGraphQLError(res, error.status, code, error.message);
    }
  }
  const refusal = options.precheck?.({ body, search: url.search });
  if (refusal) {
    const { http, ...extensions } = refusal.extensions as { http?: { status?: number } };
    return sendJson(res, http?.status ?? 400, { errors: [{ message: refusal.message, extensions }] });
  }
  const httpGraphQLRequest: HTTPGraphQLRequest = { method, headers, search: url.search, body };
  const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest, context });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === "complete") {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
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
