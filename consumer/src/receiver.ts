import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError } from "@carechain/common";
import { WebhookVerificationError } from "./errors.ts";
import type { FeedEvent } from "./event.ts";
import { ReplayGuard } from "./replay.ts";
import { memorySeenEvents, type SeenEvents } from "./seen.ts";
import {
  checkWebhook,
  defaultToleranceSeconds,
  type HeadersLike,
  type VerifiedWebhook,
} from "./signature.ts";

export type WebhookRequest = { method?: string; headers: HeadersLike; body: string };

/** What to answer: 204 handled (or a duplicate), 4xx refused, 500 the handler failed (the sender retries). */
export type WebhookOutcome = {
  status: number;
  /** Why not handled, short and stable: a WebhookRefusal or one of the receiver's own. */
  reason?: string;
  message?: string;
  /** The event id, once the request is known to be genuine. */
  id?: string;
  duplicate?: boolean;
};

export type WebhookMeta = { webhookId: string; timestamp: Date };

export type WebhookReceiverOptions = {
  /** The subscription's secret; during a rotation, the old and the new. */
  secret: string | readonly string[];
  /** Called once per event id; throw to answer 500, and the sender retries later. */
  onEvent: (event: FeedEvent, meta: WebhookMeta) => void | Promise<void>;
  /** Refuses a request seen before (default: one in memory); false: none (several instances share none). */
  replay?: ReplayGuard | false;
  /** Event ids already handled (default: the last 100,000 in memory). */
  seen?: SeenEvents;
  toleranceSeconds?: number;
  /** Larger bodies are refused with 413 (default 1 MiB; events are a few hundred bytes). */
  maxBodyBytes?: number;
  /** Each answer, for logs and counters (ids and reasons only: there is no personal data in them). */
  onOutcome?: (outcome: WebhookOutcome) => void;
  now?: () => Date;
};

export type WebhookReceiver = {
  /** Verifies and handles one request whose raw body was read already. */
  handleWebhook(request: WebhookRequest): Promise<WebhookOutcome>;
  readonly replay: ReplayGuard | undefined;
};

const refused = (status: number, reason: string, message: string, id?: string): WebhookOutcome => ({
  status,
  reason,
  message,
  ...(id !== undefined && { id }),
});

/**
 * The receiving side of CareChain's webhooks, for any HTTP stack: verify (Standard Webhooks), refuse
 * replays, drop duplicates by event id, then `onEvent`. The spec asks receivers to answer 2xx only for what
 * they accept; anything else makes the sender retry with backoff.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const tolerance = options.toleranceSeconds ?? defaultToleranceSeconds;
  const replay =
    options.replay === false
      ? undefined
      : (options.replay ?? new ReplayGuard({ toleranceSeconds: tolerance }));
  const seen = options.seen ?? memorySeenEvents();
  const now = options.now ?? (() => new Date());
  // An event being handled: a concurrent resend waits for the outcome instead of running onEvent twice.
  const inFlight = new Set<string>();

  async function decide(request: WebhookRequest): Promise<WebhookOutcome> {
    if (request.method !== undefined && request.method !== "POST")
      return refused(405, "method-not-allowed", "Webhooks are POSTed.");
    const at = now();
    let verified: VerifiedWebhook;
    try {
      verified = checkWebhook(options.secret, request.headers, request.body, {
        toleranceSeconds: tolerance,
        now: at,
      });
    } catch (error) {
      // No valid secret yet (a receiver started before its subscription existed): the sender retries later.
      if (error instanceof ConfigError)
        return refused(500, "receiver-misconfigured", "The receiver has no valid secret.");
      if (!(error instanceof WebhookVerificationError)) throw error;
      const malformed = error.reason === "missing-header" || error.reason === "bad-header";
      return refused(malformed ? 400 : 401, error.reason, error.shortMessage);
    }
    const { id } = verified;
    if (replay && !replay.admit(verified, at))
      return refused(409, "replayed", "This signed request was received before.", id);

    let event: FeedEvent;
    try {
      event = JSON.parse(request.body) as FeedEvent;
    } catch {
      return refused(400, "bad-body", "The body is not JSON.", id);
    }
    if (typeof event !== "object" || event === null || typeof event.type !== "string")
      return refused(400, "bad-body", "The body is not an event.", id);
    // The signed header and the body must name the same event, or dropping duplicates by id would lie.
    if (event.id !== id) return refused(400, "id-mismatch", "webhook-id is not the event's id.", id);

    if (inFlight.has(id)) return refused(409, "in-progress", "This event is being handled; retry later.", id);
    inFlight.add(id);
    try {
      if (await seen.has(id)) return { status: 204, id, duplicate: true };
      try {
        await options.onEvent(event, { webhookId: id, timestamp: verified.timestamp });
      } catch {
        // Not the sender's fault and maybe transient: non-2xx makes it retry. No detail leaves the process.
        return refused(500, "handler-failed", "The receiver failed to handle the event.", id);
      }
      await seen.add(id);
      return { status: 204, id };
    } finally {
      inFlight.delete(id);
    }
  }

  return {
    replay,
    async handleWebhook(request) {
      const outcome = await decide(request);
      options.onOutcome?.(outcome);
      return outcome;
    },
  };
}

class BodyTooLarge extends Error {}

/** The raw body as text, refused past `limit` bytes without reading the rest. */
function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"]);
    if (declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, outcome: WebhookOutcome, close = false): void {
  if (close) response.setHeader("connection", "close");
  if (outcome.status === 204) {
    response.writeHead(204).end();
    return;
  }
  const body = JSON.stringify({ error: outcome.reason, message: outcome.message });
  response.writeHead(outcome.status, { "content-type": "application/json" }).end(body);
}

/**
 * A node:http request listener receiving CareChain webhooks (mount it on the subscription's URL):
 *
 *   http.createServer(createWebhookHandler({ secret, onEvent: (event) => ... })).listen(8080);
 */
export function createWebhookHandler(
  options: WebhookReceiverOptions,
): ((request: IncomingMessage, response: ServerResponse) => void) & { receiver: WebhookReceiver } {
  const receiver = createWebhookReceiver(options);
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const listener = (request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      if (request.method !== "POST") {
        send(response, await receiver.handleWebhook({ method: request.method, headers: {}, body: "" }));
        return;
      }
      let body: string;
      try {
        body = await readBody(request, limit);
      } catch (error) {
        const outcome =
          error instanceof BodyTooLarge
            ? refused(413, "body-too-large", `Bodies over ${limit} bytes are refused.`)
            : refused(400, "bad-request", "The body could not be read.");
        options.onOutcome?.(outcome);
        // The rest of an oversized body is not read: the connection cannot be reused.
        send(response, outcome, true);
        return;
      }
      send(response, await receiver.handleWebhook({ method: "POST", headers: request.headers, body }));
    })().catch(() => {
      if (!response.headersSent) send(response, refused(500, "receiver-error", "The receiver failed."));
      else response.destroy();
    });
  };
  return Object.assign(listener, { receiver });
}
