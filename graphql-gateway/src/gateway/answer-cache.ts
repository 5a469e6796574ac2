import type { AuditEntry, AuditSink, ServedAuditSink } from "../audit/audit-log.ts";
import { type ReadSet, readSetOf } from "../audit/read-set.ts";
import type { Database } from "../database/pool.ts";
import { AuditUnavailableError } from "../errors.ts";
import type { GatewayMetrics } from "../metrics.ts";
import { operations } from "../operations.ts";
import type { AnswerCacheOptions } from "../options.ts";
import { ReadFreshness, type ReadState } from "./read-freshness.ts";

/** A complete answer as it went out: status, headers (without the request id) and the body's JSON text. */
export type PreparedAnswer = { status: number; headers: [string, string][]; body: string };

type Entry = {
  answer: PreparedAnswer;
  audits: readonly AuditEntry[];
  /** The same reads as one set, when they make one: each request served is then one audit row. */
  readSet: ReadSet | undefined;
  /** The state read before the answer was computed. */
  state: ReadState;
  /**
   * The addresses the answer stands on, for an operation of known reach (see `reachOf`): it stays true
   * while none of them is stamped after `state.version`. Undefined: any change to the projections ends it.
   */
  reach: readonly string[] | undefined;
};

/**
 * Operations whose answer depends only on rows holding the viewer's address, an address in the variables
 * or an address in the answer: the load tests' PatientFetch (a patient, their records, grants and
 * grantees, vitals, and the viewer's access facts: all rows hold the patient or the viewer) and DoctorFetch
 * (the doctor, the patients granted to them in grant order, their vitals). A new grant holds the doctor; a
 * new reading holds its patient, who is in the answer. Other queries (a directory, a search) may depend on
 * rows about anyone: they are kept under the one version, as before.
 */
const knownReach: ReadonlySet<string> = new Set(Object.values(operations));

/** The audit entries of one execution; `spoiled` when entries of others may be among them or missing. */
type Capture = { entries: AuditEntry[]; spoiled: boolean };

/** What one request does with the cache: look up before executing, offer its answer after. */
export type AnswerHooks = {
  /** The stored answer for this body, its reads audited again for this request; undefined: execute it. */
  lookup(body: unknown): Promise<PreparedAnswer | undefined>;
  /**
   * Called once the request is answered (or failed), with Apollo Server's answer when it was complete:
   * kept when it answered a query with data and no errors but refusals.
   */
  settle(answer: PreparedAnswer | undefined): void;
};

export type AnswerCacheResult = "hit" | "miss" | "stored" | "bypass";

/**
 * Answers that cannot go stale: each is kept under the read state it was computed in (the projections'
 * version, bumped in the transaction of every change, and the next access expiry) and served only while
 * the state read AFTER the request arrived is still that one. So an answer is never served after a
 * revocation, a new write, a retraction or an expiry (judged with `clockMarginMs` to spare): the next
 * request executes again, through the same policy. The reads an answer made are audited again for every
 * request it is served to, and the answer is held until they are stored, as on execution.
 *
 * Only possible where the subgraphs run in this process: the audit entries of an execution are captured
 * from their audit sink (`capturingSink`) by request id.
 */
export class AnswerCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly captures = new Map<string, Capture>();
  /** Questions being executed after a miss, settled when the answer is (or is not) kept. */
  private readonly executing = new Map<string, Promise<void>>();

  constructor(
    private readonly options: {
      freshness: ReadFreshness;
      /** Where the reads of an answer served again are audited. */
      audit: ServedAuditSink;
      maxEntries: number;
      maxBytes: number;
      clockMarginMs: number;
      now?: () => number;
      onResult?: (result: AnswerCacheResult) => void;
      /** How long a miss waits for the same question's running execution before executing itself. */
      waitForExecutionMs?: number;
    },
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The sink to give the subgraphs beside the gateway: every entry also reaches its request's capture. An
   * entry under an id no capture has (a request that is not kept, an id derived from a request's) may belong
   * to any running one: none of them is kept then, so no kept answer can miss a read.
   */
  capturingSink(inner: AuditSink): AuditSink {
    const captureEntry = (entry: AuditEntry) => {
      const capture = this.captures.get(entry.requestId);
      if (capture) capture.entries.push(entry);
      else for (const running of this.captures.values()) running.spoiled = true;
    };
    return {
      record: (entry) => {
        captureEntry(entry);
        return inner.record(entry);
      },
      recordAll: (entries) => {
        for (const entry of entries) captureEntry(entry);
        return inner.recordAll(entries);
      },
    };
  }

  /**
   * The hooks of one request by `account` (signed in), whose reads are audited under `requestId`;
   * `isQuery` says, once executed, whether the operation was a query (only those are kept).
   */
  forRequest(account: string, requestId: string, isQuery: () => boolean): AnswerHooks {
    let request: KeptRequest | undefined;
    let state: ReadState | null = null;
    let capture: Capture | undefined;
    let executed: (() => void) | undefined;
    return {
      lookup: async (body) => {
        request = requestOf(account, body);
        if (request === undefined) return this.result("bypass");
        const { key } = request;
        // The same question is being executed for this account (a cold start: many at once): wait for that
        // answer, then look it up as any request would (the state is read after this one arrived, and its
        // reads are audited for it), instead of executing it again meanwhile.
        const running = this.executing.get(key);
        if (running) await this.waitFor(running);
        const entry = this.entries.get(key);
        // Nothing kept: this request will execute, and those asking meanwhile wait for it.
        if (!entry && !this.executing.has(key)) executed = this.markExecuting(key);
        state = await this.options.freshness.current(entry?.reach).catch(() => null);
        if (!state || !this.usable(state)) return this.result("bypass");
        if (entry && this.stillTrue(entry, state)) {
          this.entries.delete(key);
          this.entries.set(key, entry); // most recently used last
          this.options.onResult?.("hit");
          try {
            await this.audit(entry, requestId);
          } catch (error) {
            return refusal(error);
          }
          return entry.answer;
        }
        if (entry) this.drop(key, entry);
        capture = this.capture(requestId);
        if (!executed && capture && !this.executing.has(key)) executed = this.markExecuting(key);
        return this.result("miss");
      },
      settle: (answer) => {
        try {
          if (!capture) return;
          this.captures.delete(requestId);
          if (!answer) return;
          if (capture.spoiled || !isQuery() || !request || !state) return;
          if (!this.usable(state) || answer.status !== 200 || !isDecided(answer.body)) return;
          const reach = knownReach.has(request.query)
            ? reachOf(account, request.variables, answer.body)
            : undefined;
          const audits = capture.entries;
          this.store(request.key, { state, answer, audits, readSet: readSetOf(audits), reach });
          this.options.onResult?.("stored");
        } finally {
          // Kept or not: whoever waits for this execution looks up again.
          executed?.();
        }
      },
    };
  }

  /** Marks `key` as being executed; the function returned ends that. */
  private markExecuting(key: string): () => void {
    let release: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.executing.set(key, done);
    return () => {
      if (this.executing.get(key) === done) this.executing.delete(key);
      release();
    };
  }

  /** Resolves when `running` settles, or after `waitForExecutionMs` (then the waiting request executes). */
  private waitFor(running: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.waitForExecutionMs ?? 5_000);
    });
    return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }

  /**
   * Whether a kept answer is still the one its request would get now: same generation, no change that
   * stamped no address (a TRUNCATE, a hand-made write), and then either none of the addresses it stands on
   * changed since the version it was computed at and no access expired since (its reach is known), or
   * nothing at all changed and the next expiry is the same.
   */
  private stillTrue(entry: Entry, state: ReadState): boolean {
    const kept = entry.state;
    if (kept.token !== state.token || kept.unattributed !== state.unattributed) return false;
    if (!entry.reach) return kept.key === state.key;
    if (state.newestStamp > kept.version) return false;
    const now = this.options.now?.() ?? Date.now();
    return kept.nextExpiry === null || now + this.options.clockMarginMs < kept.nextExpiry;
  }

  private result(result: AnswerCacheResult): undefined {
    this.options.onResult?.(result);
    return undefined;
  }

  /** No expiry from a margin before now to a margin after it: answers computed now stay true until then. */
  private usable(state: ReadState): boolean {
    const now = this.options.now?.() ?? Date.now();
    return state.nextExpiry === null || now + this.options.clockMarginMs < state.nextExpiry;
  }

  private capture(requestId: string): Capture | undefined {
    const running = this.captures.get(requestId);
    if (running) {
      // A second request under the same id (a client's x-request-id) mixes its entries in: neither is kept.
      running.spoiled = true;
      return undefined;
    }
    const capture: Capture = { entries: [], spoiled: false };
    this.captures.set(requestId, capture);
    return capture;
  }

  /** The reads of a stored answer, audited for this request; rejects when one cannot be stored. */
  private async audit(entry: Entry, requestId: string): Promise<void> {
    if (entry.audits.length === 0) return;
    const readAt = new Date(this.options.now?.() ?? Date.now());
    if (entry.readSet) return this.options.audit.recordServed({ set: entry.readSet, requestId, readAt });
    await this.options.audit.recordAll(entry.audits.map((read) => ({ ...read, requestId, readAt })));
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    this.bytes -= key.length + entry.answer.body.length;
  }

  private store(key: string, entry: Entry): void {
    const size = key.length + entry.answer.body.length;
    if (size > this.options.maxBytes) return;
    const previous = this.entries.get(key);
    if (previous) this.drop(key, previous);
    this.entries.set(key, entry);
    this.bytes += size;
    // Least recently used first out.
    for (const [oldest, old] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= oldest.length + old.answer.body.length;
    }
  }
}

type KeptRequest = { key: string; query: string; variables: unknown };

/**
 * The key of a POST body: who asks and exactly what (text, operation, variables). Undefined for what is
 * not kept: no query text, or extensions (persisted-query hashes, client directives) that may change the
 * answer.
 */
function requestOf(account: string, body: unknown): KeptRequest | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const { query, operationName, variables, extensions, ...rest } = body as Record<string, unknown>;
  if (typeof query !== "string" || extensions !== undefined || Object.keys(rest).length > 0) return undefined;
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string")
    return undefined;
  const key = JSON.stringify([account.toLowerCase(), operationName ?? null, query, variables ?? null]);
  return { key, query, variables };
}

/** An address in any case, not the start of a longer hex string (a hash, a pointer). */
const addressPattern = /0x[0-9a-f]{40}(?![0-9a-f])/g;

/**
 * The addresses an answer of known reach stands on: the viewer's, those in the variables and those in the
 * answer (lower case, as the projections store them). More is only more careful.
 */
export function reachOf(account: string, variables: unknown, answerBody: string): string[] {
  const text = `${account} ${JSON.stringify(variables ?? null)} ${answerBody}`.toLowerCase();
  return [...new Set(text.match(addressPattern) ?? [])];
}

/** The answer to a stored answer's request whose reads could not be audited: refused, as on execution. */
function refusal(error: unknown): PreparedAnswer {
  const refused =
    error instanceof AuditUnavailableError ? error : new AuditUnavailableError({ cause: error });
  const body = {
    data: null,
    errors: [{ message: refused.shortMessage, extensions: { code: refused.code } }],
  };
  return {
    status: 200,
    headers: [["content-type", "application/json; charset=utf-8"]],
    body: JSON.stringify(body),
  };
}

/**
 * Whether an answer is whole as of its state: data, and no errors but refusals (FORBIDDEN is the policy's
 * decision on the same facts, so the same request gets it again; any other error may not recur).
 */
function isDecided(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { errors?: { extensions?: { code?: unknown } }[]; data?: unknown };
    if (parsed.data === undefined || parsed.data === null) return false;
    return (parsed.errors ?? []).every((error) => error.extensions?.code === "FORBIDDEN");
  } catch {
    return false;
  }
}

/** The answer cache of a gateway whose subgraphs run beside it, or undefined when the settings turn it off. */
export function createAnswerCache(options: {
  db: Database;
  audit: ServedAuditSink;
  settings: AnswerCacheOptions;
  metrics: GatewayMetrics;
}): AnswerCache | undefined {
  const { maxEntries, maxBytes, clockMarginMs } = options.settings;
  if (maxEntries === 0) return undefined;
  return new AnswerCache({
    freshness: new ReadFreshness(options.db, { clockMarginMs }),
    audit: options.audit,
    maxEntries,
    maxBytes,
    clockMarginMs,
    onResult: (result) => options.metrics.answerCache.inc({ result }),
  });
}
