import { isRetryable, sleep } from "@carechain/common";
import { type CursorStore, memoryCursorStore } from "./cursor-store.ts";
import { EventsRequestRefusedError, EventsUnavailableError } from "./errors.ts";
import type { EventType, FeedEvent } from "./event.ts";
import { memorySeenEvents, type SeenEvents } from "./seen.ts";

/** An event as Query.events gives it: the public event and the cursor to resume after it. */
export type PulledEvent = FeedEvent & { cursor: string };

export type PullOptions = {
  /** The gateway: http://host:port (or its /graphql). */
  url: string;
  /**
   * `Authorization: Bearer` value: an API key (`cck_…`), a JWT, or a function giving one (called for every
   * request, and again once after UNAUTHENTICATED, so an expiring JWT can be renewed there).
   */
  token: string | (() => string | Promise<string>);
  /** Called in feed order, once per event id; the page's cursor is saved only after it returns. */
  onEvent: (event: PulledEvent) => void | Promise<void>;
  cursorStore?: CursorStore;
  types?: readonly EventType[];
  patients?: readonly string[];
  /** Events per request (the gateway allows up to its maxPageSize, 100 by default). */
  pageSize?: number;
  /** The wait before asking again when there was nothing new (default 1 s). */
  pollIntervalMs?: number;
  /** Event ids already handled (default: the last 100,000 in memory). */
  seen?: SeenEvents;
  /** Backoff for retryable failures (network, 5xx): full jitter between 0 and min(max, initial·2ⁿ). */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /** Each retryable failure before its wait, and each restart after CURSOR_EXPIRED (for logs). */
  onRetry?: (info: { error: Error; delayMs: number; attempt: number }) => void;
  onCursorExpired?: () => void;
  fetch?: typeof fetch;
};

const eventsQuery = `query CareChainPull($after: String, $first: Int, $types: [EventType!], $patients: [Address!]) {
  events(after: $after, first: $first, types: $types, patients: $patients) {
    edges { node {
      id type cursor schemaVersion patient occurredAt chainId blockNumber blockHash transactionHash
      logIndex retracted data
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type EventsAnswer = {
  data?: {
    events: { edges: { node: PulledEvent }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
  } | null;
  errors?: { message: string; extensions?: { code?: string } }[];
};

/** Codes that say the gateway, not the request, failed: asking again later can succeed. */
const transientCodes = new Set(["INTERNAL_SERVER_ERROR", "AUDIT_UNAVAILABLE"]);

/**
 * Pulls the events an account may see, page after page, from where it stopped: for catch-up and for
 * systems that cannot receive webhooks. Each page: its events to `onEvent` in order (duplicates by id
 * dropped), then its `endCursor` saved. A page of nothing: wait `pollIntervalMs` and ask again.
 * CURSOR_EXPIRED (the gateway rebuilt its event log): start again without a cursor, as the gateway says,
 * dropping the events already handled by their id.
 */
export class EventPuller {
  readonly #options: PullOptions;
  readonly #store: CursorStore;
  readonly #seen: SeenEvents;
  readonly #endpoint: string;
  #cursor: string | null | undefined;

  constructor(options: PullOptions) {
    this.#options = options;
    this.#store = options.cursorStore ?? memoryCursorStore();
    this.#seen = options.seen ?? memorySeenEvents();
    this.#endpoint = `${options.url.replace(/\/+$/, "").replace(/\/graphql$/, "")}/graphql`;
  }

  /**
   * One page: returns how many events were handed to onEvent and whether more are waiting. Throws
   * EventsRequestRefusedError (do not retry) or EventsUnavailableError (retry later); a failing onEvent
   * throws its own error, with the cursor left before the page (its events come again).
   */
  async pullPage(): Promise<{ delivered: number; hasNextPage: boolean }> {
    if (this.#cursor === undefined) this.#cursor = await this.#store.load();
    let answer: Awaited<ReturnType<EventPuller["request"]>>;
    try {
      answer = await this.request(this.#cursor);
    } catch (error) {
      if (!(error instanceof EventsRequestRefusedError) || error.code !== "CURSOR_EXPIRED") throw error;
      this.#options.onCursorExpired?.();
      this.#cursor = null;
      await this.#store.save(null);
      answer = await this.request(null);
    }
    let delivered = 0;
    for (const { node } of answer.edges) {
      if (await this.#seen.has(node.id)) continue;
      await this.#options.onEvent(node);
      await this.#seen.add(node.id);
      delivered++;
    }
    // An idle poll usually ends where it began: no write (and no fsync) every pollIntervalMs then.
    if (answer.pageInfo.endCursor !== this.#cursor) {
      this.#cursor = answer.pageInfo.endCursor;
      await this.#store.save(this.#cursor);
    }
    return { delivered, hasNextPage: answer.pageInfo.hasNextPage };
  }

  /**
   * Pages until `signal` aborts: at once while more are waiting, every `pollIntervalMs` otherwise; retries
   * what can succeed later with backoff. Rejects with the first error that retrying cannot fix.
   */
  async run(signal?: AbortSignal): Promise<void> {
    const initial = this.#options.retry?.initialDelayMs ?? 500;
    const max = this.#options.retry?.maxDelayMs ?? 30_000;
    let failures = 0;
    while (!signal?.aborted) {
      let hasNextPage: boolean;
      try {
        ({ hasNextPage } = await this.pullPage());
        failures = 0;
      } catch (error) {
        if (signal?.aborted) return;
        if (!isRetryable(error) || !(error instanceof Error)) throw error;
        failures++;
        const delayMs = Math.round(Math.random() * Math.min(max, initial * 2 ** (failures - 1)));
        this.#options.onRetry?.({ error, delayMs, attempt: failures });
        await sleep(delayMs, signal);
        continue;
      }
      if (!hasNextPage) await sleep(this.#options.pollIntervalMs ?? 1000, signal);
    }
  }

  /** The cursor the next page starts after (undefined before the store was read). */
  get cursor(): string | null | undefined {
    return this.#cursor;
  }

  private async request(after: string | null) {
    const token = this.#options.token;
    let answer = await this.post(after, typeof token === "string" ? token : await token());
    if (answer.invalidToken !== undefined && typeof token === "function")
      answer = await this.post(after, await token());
    // The gateway serves a request with a bad token as anonymous (then FORBIDDEN) and says why in
    // WWW-Authenticate: that is the cause to report.
    if (answer.invalidToken !== undefined)
      throw new EventsRequestRefusedError("UNAUTHENTICATED", answer.status, answer.invalidToken);
    const error = answer.errors?.[0];
    if (error) {
      const errorCode = error.extensions?.code ?? "GRAPHQL_ERROR";
      if (transientCodes.has(errorCode))
        throw new EventsUnavailableError(`The events API failed (${errorCode}): ${error.message}`);
      throw new EventsRequestRefusedError(errorCode, answer.status, error.message);
    }
    if (!answer.data?.events) throw new EventsUnavailableError("The events API answered without events.");
    return answer.data.events;
  }

  private async post(
    after: string | null,
    token: string,
  ): Promise<EventsAnswer & { status: number; invalidToken: string | undefined }> {
    const variables = {
      after,
      first: this.#options.pageSize ?? 100,
      types: this.#options.types ?? null,
      patients: this.#options.patients ?? null,
    };
    let response: Response;
    try {
      response = await (this.#options.fetch ?? fetch)(this.#endpoint, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: eventsQuery, variables }),
      });
    } catch (cause) {
      throw new EventsUnavailableError(`Cannot reach the events API at ${this.#endpoint}.`, { cause });
    }
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new EventsUnavailableError(`The events API answered HTTP ${response.status}.`, {
        status: response.status,
      });
    }
    let body: EventsAnswer;
    try {
      body = (await response.json()) as EventsAnswer;
    } catch (cause) {
      // A proxy's error page, a cut connection: not the gateway's answer.
      throw new EventsUnavailableError(`The events API answered HTTP ${response.status} without JSON.`, {
        status: response.status,
        cause,
      });
    }
    if (!body.errors?.length && !body.data && response.status >= 400)
      throw new EventsRequestRefusedError(`HTTP_${response.status}`, response.status, "Request refused.");
    const challenge = response.headers.get("www-authenticate") ?? "";
    const invalidToken = /error="invalid_token"/.test(challenge)
      ? (/error_description="([^"]*)"/.exec(challenge)?.[1] ?? "Invalid token.")
      : undefined;
    return { ...body, status: response.status, invalidToken };
  }
}

/** Pulls until `signal` aborts (see EventPuller). */
export function pullEvents(options: PullOptions & { signal?: AbortSignal }): Promise<void> {
  return new EventPuller(options).run(options.signal);
}
