import type { Logger } from "@carechain/common";
import { sleep } from "@carechain/common";
import type { Database } from "../database/pool.ts";
import { AuditUnavailableError } from "../errors.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { ReadKind } from "../policy/rules.ts";
import type { ReadSet } from "./read-set.ts";

export type AuditChannel = "query" | "subscription" | "webhook";

/** One read of a patient's data by someone else: who, whose, what, under which rule, when, in which request. */
export type AuditEntry = {
  viewer: string;
  patient: string;
  what: ReadKind;
  rule: "grant" | "emergency" | "alert-recipient" | "party";
  /** rule = grant: the grant's scopes and start, which identify the grant used. */
  grantScopes: number | null;
  grantGrantedAt: Date | null;
  /** The grant's or the emergency access's expiry. */
  accessExpiresAt: Date | null;
  channel: AuditChannel;
  requestId: string;
  readAt: Date;
};

export interface AuditSink {
  /** Resolves once the entry is stored; rejects (AuditUnavailableError) when it cannot be: refuse the read. */
  record(entry: AuditEntry): Promise<void>;
  /** `record` for the entries of one read at once: resolves once all are stored, rejects if one is not. */
  recordAll(entries: readonly AuditEntry[]): Promise<void>;
}

/** A request served a kept answer again (the answer cache): it read the set's reads, under its own id. */
export type ServedRead = { set: ReadSet; requestId: string; readAt: Date };

/** An audit sink that can also store a served answer's reads as one row naming their set (migration 006). */
export interface ServedAuditSink extends AuditSink {
  /** As `recordAll` of the set's entries with this request's id and time: resolves once stored. */
  recordServed(served: ServedRead): Promise<void>;
}

/** The form of every request id the audit log accepts (server-made, or a client's that passed the check). */
const requestIdPattern = /^[\w.:-]{1,120}$/;

/**
 * A request id from a client-chosen value (`x-request-id`, a graphql-ws subscription id): kept when it is
 * short and plain, otherwise replaced by `fallback()`. Client values never reach the audit log unchecked.
 */
export function requestIdFrom(value: unknown, fallback: () => string, maxLength = 100): string {
  return typeof value === "string" && value.length <= maxLength && requestIdPattern.test(value)
    ? value
    : fallback();
}

const addressPattern = /^0x[0-9a-f]{40}$/;

/** Why an entry cannot be stored as it is (null when it can): checked before it joins a batch. */
function invalidEntry(entry: AuditEntry): string | null {
  if (!addressPattern.test(entry.viewer) || !addressPattern.test(entry.patient)) return "address";
  if (!requestIdPattern.test(entry.requestId)) return "request id";
  if (entry.grantScopes !== null && !(Number.isInteger(entry.grantScopes) && entry.grantScopes >= 0))
    return "grant scopes";
  for (const date of [entry.readAt, entry.grantGrantedAt, entry.accessExpiresAt]) {
    if (date !== null && Number.isNaN(date.getTime())) return "timestamp";
  }
  return null;
}

/** PostgreSQL SQLSTATE classes that fail the same way on every retry: data exceptions, constraint violations. */
const isDataError = (error: unknown) => /^2[23]/.test(String((error as { code?: unknown })?.code ?? ""));

type Pending<T> = { item: T; resolve: () => void; reject: (error: Error) => void };

/** Read sets known stored, by hex digest: more than this, and they are stored again (a no-op) as met. */
const maxKnownSets = 100_000;

/**
 * The audit log, with group commit: `record` queues an entry and returns a promise that settles when the
 * entry is stored. A flush starts as soon as one is queued and no flush runs (after `flushIntervalMs`, 0 by
 * default); entries that arrive meanwhile form the next batch, one multi-row INSERT each. Callers hold the
 * answer of a read until its entries are stored, so an answered read is never lost to a crash, and a read
 * whose entry cannot be stored is refused. One bad entry never blocks the others: a batch that fails on
 * data is split until the bad entry is alone, and only that one is refused. `recordServed` (a request the
 * answer cache served) is queued the same way and stored in the same flush, one row per request.
 */
export class AuditLog implements ServedAuditSink {
  private queue: Pending<AuditEntry>[] = [];
  private served: Pending<ServedRead>[] = [];
  /** Read sets this process stored (or found stored): a served row names them without storing them again. */
  private readonly storedSets = new Set<string>();
  private flushing: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  readonly flushIntervalMs: number;
  readonly maxBatchRows: number;

  constructor(
    private readonly options: {
      db: Database;
      logger: Logger;
      /** How long a flush waits to gather entries (default 0: group commit batches under load by itself). */
      flushIntervalMs?: number;
      maxBatchRows?: number;
      /** Called with the queue depth whenever it changes (a metrics gauge). */
      onDepth?: (depth: number) => void;
      /** Called after every flush attempt: whether the database stored it (a metrics gauge / alert). */
      onHealth?: (ok: boolean) => void;
      /** Called with the number of entries refused and why ("invalid", "rejected", "unavailable"). */
      onRefused?: (count: number, reason: "invalid" | "rejected" | "unavailable") => void;
    },
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 0;
    this.maxBatchRows = options.maxBatchRows ?? 500;
  }

  get depth(): number {
    return this.queue.length + this.served.length;
  }

  record(entry: AuditEntry): Promise<void> {
    return this.recordAll([entry]);
  }

  recordAll(entries: readonly AuditEntry[]): Promise<void> {
    for (const entry of entries) {
      const invalid = invalidEntry(entry);
      if (!invalid) continue;
      // A bug upstream (the boundaries check client values): refuse the read, store nothing broken.
      this.options.logger.error({ field: invalid, channel: entry.channel }, "audit entry refused: invalid");
      this.options.onRefused?.(entries.length, "invalid");
      return Promise.reject(new AuditUnavailableError({ details: `invalid ${invalid}` }));
    }
    if (entries.length === 0) return Promise.resolve();
    if (this.stopped) this.options.logger.warn("audit entry recorded after stop; storing it now");
    return new Promise<void>((resolve, reject) => {
      // One promise for the read: settled when its last entry is stored, or when the first is refused.
      let left = entries.length;
      let refused = false;
      const stored = () => {
        if (--left === 0 && !refused) resolve();
      };
      const refuse = (error: Error) => {
        if (refused) return;
        refused = true;
        reject(error);
      };
      for (const entry of entries) this.queue.push({ item: entry, resolve: stored, reject: refuse });
      this.options.onDepth?.(this.depth);
      this.schedule();
    });
  }

  /**
   * One row for a request served a kept answer: the set (stored once per process, first) and the request.
   * Entries of an answer that make no set go through `recordAll` instead (see `readSetOf`).
   */
  recordServed(served: ServedRead): Promise<void> {
    if (!requestIdPattern.test(served.requestId) || Number.isNaN(served.readAt.getTime())) {
      this.options.logger.error({ channel: served.set.channel }, "audit entry refused: invalid");
      this.options.onRefused?.(served.set.entries, "invalid");
      return Promise.reject(new AuditUnavailableError({ details: "invalid request id or time" }));
    }
    if (this.stopped) this.options.logger.warn("audit entry recorded after stop; storing it now");
    return new Promise<void>((resolve, reject) => {
      this.served.push({ item: served, resolve, reject });
      this.options.onDepth?.(this.depth);
      this.schedule();
    });
  }

  /** Resolves once everything queued before the call has been attempted (stored or refused). */
  async flush(): Promise<void> {
    while (this.depth > 0 || this.flushing) {
      if (!this.flushing) this.flushing = this.drain();
      await this.flushing;
    }
  }

  /** Stores what is queued, retrying a failing database a few times before refusing those reads. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (let attempt = 0; attempt < 5 && (this.depth > 0 || this.flushing); attempt++) {
      if (attempt > 0) await sleep(200 * 2 ** attempt);
      await this.flush();
    }
  }

  /**
   * The next write starts on the next turn of the event loop (or after `flushIntervalMs`), so the entries a
   * request records in one go (a page of patients, say) share it; while a write runs, the next waits.
   */
  private schedule(): void {
    if (this.flushing || this.cancelTimer) return;
    const start = () => {
      this.cancelTimer = undefined;
      if (!this.flushing) this.flushing = this.drain();
    };
    if (this.flushIntervalMs <= 0) {
      const immediate = setImmediate(start);
      this.cancelTimer = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(start, this.flushIntervalMs);
      this.cancelTimer = () => clearTimeout(timer);
    }
  }

  /** Flushes batch after batch until the queue is empty. Never rejects: each entry's promise says. */
  private async drain(): Promise<void> {
    try {
      while (this.depth > 0) {
        const entries = this.queue.splice(0, this.maxBatchRows);
        const served = this.served.splice(0, this.maxBatchRows);
        this.options.onDepth?.(this.depth);
        const insertEntries = (batch: AuditEntry[]) => this.insert(batch);
        const insertServed = (batch: ServedRead[]) => this.insertServed(batch);
        if (entries.length > 0) await this.store(entries, insertEntries, () => 1);
        if (served.length > 0) await this.store(served, insertServed, (one) => one.set.entries);
      }
    } finally {
      this.flushing = undefined;
      // Entries queued during the last write's tail, if any, get a write of their own.
      if (this.depth > 0) this.schedule();
    }
  }

  /** Stores a batch with `insert`; `entriesOf` says how many audit entries an item is (for the metrics). */
  private async store<T>(
    batch: Pending<T>[],
    insert: (items: T[]) => Promise<void>,
    entriesOf: (item: T) => number,
  ): Promise<void> {
    try {
      await insert(batch.map((pending) => pending.item));
      this.options.onHealth?.(true);
      for (const pending of batch) pending.resolve();
    } catch (error) {
      if (isDataError(error) && batch.length > 1) {
        // Split until the entry at fault is alone; the others are stored.
        const half = Math.ceil(batch.length / 2);
        await this.store(batch.slice(0, half), insert, entriesOf);
        await this.store(batch.slice(half), insert, entriesOf);
        return;
      }
      const rejected = isDataError(error);
      this.options.onHealth?.(false);
      const refused = batch.reduce((sum, pending) => sum + entriesOf(pending.item), 0);
      this.options.onRefused?.(refused, rejected ? "rejected" : "unavailable");
      // No addresses in the log: the code and the reason say what went wrong.
      this.options.logger.error(
        { code: (error as { code?: unknown }).code, reason: (error as Error).message, entries: refused },
        rejected
          ? "audit entry rejected by the database; read refused"
          : "audit log unavailable; reads refused",
      );
      const refusal = new AuditUnavailableError({ cause: error });
      for (const pending of batch) pending.reject(refusal);
    }
  }

  private async insert(batch: AuditEntry[]): Promise<void> {
    const { db } = this.options;
    const { requests, accesses, rows, entries } = encodeBatch(batch);
    // One row per access (gateway migration 005): a DoctorFetch's 40 entries are 20 rows, the kinds
    // read in `what`. Rows in queue order (ids follow it). Each request and each access is sent once;
    // parsing the parameters (timestamps above all) was about 40 % of a row's server time in a bench
    // (docs/performance.md, phase 6).
    await db.query(
      `INSERT INTO ${db.gateway}.audit_access
         (viewer, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at, channel, request_id, read_at)
       SELECT r.viewer, a.patient, w.what, a.rule, a.grant_scopes, to_timestamp(a.granted_ms / 1000.0),
              to_timestamp(a.expires_ms / 1000.0), r.channel, r.request_id, to_timestamp(r.read_ms / 1000.0)
         FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS g(request, access, n)
         JOIN (SELECT e.row_index, array_agg(e.what ORDER BY e.n) AS what
                 FROM unnest($3::int[], $4::text[]) WITH ORDINALITY AS e(row_index, what, n)
                GROUP BY e.row_index) w ON w.row_index = g.n
         JOIN unnest($5::text[], $6::text[], $7::text[], $8::float8[])
                WITH ORDINALITY AS r(viewer, channel, request_id, read_ms, n) ON r.n = g.request
         JOIN unnest($9::text[], $10::text[], $11::smallint[], $12::float8[], $13::float8[])
                WITH ORDINALITY AS a(patient, rule, grant_scopes, granted_ms, expires_ms, n) ON a.n = g.access
        ORDER BY g.n`,
      [
        rows.request,
        rows.access,
        entries.row,
        entries.what,
        requests.viewer,
        requests.channel,
        requests.requestId,
        requests.readMs,
        accesses.patient,
        accesses.rule,
        accesses.grantScopes,
        accesses.grantedMs,
        accesses.expiresMs,
      ],
      // Run once per batch, i.e. about once per request under load: parsing and planning this statement
      // each time was a tenth of PostgreSQL's work per cached DoctorFetch (docs/performance.md, phase 7).
      `audit-insert:${db.gatewaySchema}`,
    );
  }

  /** The rows of requests served kept answers, after the sets they name that may not be stored yet. */
  private async insertServed(batch: ServedRead[]): Promise<void> {
    await this.storeSets(batch);
    try {
      await this.insertServedRows(batch);
    } catch (error) {
      if ((error as { code?: unknown }).code !== "23503") throw error;
      // A set this process stored is gone (the log cleared by hand): store the sets again, once.
      for (const { set } of batch) this.storedSets.delete(set.digest.toString("hex"));
      await this.storeSets(batch);
      await this.insertServedRows(batch);
    }
  }

  private async insertServedRows(batch: ServedRead[]): Promise<void> {
    const { db } = this.options;
    await db.query(
      `INSERT INTO ${db.gateway}.audit_served (read_set, request_id, read_at)
       SELECT s.read_set, s.request_id, to_timestamp(s.read_ms / 1000.0)
         FROM unnest($1::bytea[], $2::text[], $3::float8[]) WITH ORDINALITY AS s(read_set, request_id, read_ms, n)
        ORDER BY s.n`,
      [
        batch.map((served) => served.set.digest),
        batch.map((served) => served.requestId),
        batch.map((served) => served.readAt.getTime()),
      ],
      `audit-served:${db.gatewaySchema}`,
    );
  }

  /**
   * Stores the sets of `batch` not known stored, with their accesses, in one statement; a set another
   * process stored first is left as it is (same digest, same reads).
   */
  private async storeSets(batch: readonly ServedRead[]): Promise<void> {
    const sets = new Map<string, ReadSet>();
    for (const { set } of batch) {
      const hex = set.digest.toString("hex");
      if (!this.storedSets.has(hex)) sets.set(hex, set);
    }
    if (sets.size === 0) return;
    const rows = {
      set: [] as Buffer[],
      n: [] as number[],
      firstEntry: [] as number[],
      patient: [] as string[],
      what: [] as string[],
      rule: [] as string[],
      grantScopes: [] as (number | null)[],
      grantedMs: [] as (number | null)[],
      expiresMs: [] as (number | null)[],
    };
    for (const set of sets.values()) {
      let firstEntry = 0;
      set.accesses.forEach((access, index) => {
        rows.set.push(set.digest);
        rows.n.push(index + 1);
        rows.firstEntry.push(firstEntry);
        rows.patient.push(access.patient);
        // Kinds are plain words (ReadKind): a comma list is one text parameter per access.
        rows.what.push(access.what.join(","));
        rows.rule.push(access.rule);
        rows.grantScopes.push(access.grantScopes);
        rows.grantedMs.push(epochMs(access.grantGrantedAt));
        rows.expiresMs.push(epochMs(access.accessExpiresAt));
        firstEntry += access.what.length;
      });
    }
    const { db } = this.options;
    const list = [...sets.values()];
    await db.query(
      `WITH sets AS (
         INSERT INTO ${db.gateway}.audit_read_set (digest, viewer, channel)
         SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[])
         ON CONFLICT (digest) DO NOTHING
         RETURNING digest)
       INSERT INTO ${db.gateway}.audit_read_set_access
              (read_set, n, first_entry, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at)
       SELECT a.read_set, a.n, a.first_entry, a.patient, string_to_array(a.what, ','), a.rule, a.grant_scopes,
              to_timestamp(a.granted_ms / 1000.0), to_timestamp(a.expires_ms / 1000.0)
         FROM unnest($4::bytea[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[], $10::smallint[],
                     $11::float8[], $12::float8[])
                AS a(read_set, n, first_entry, patient, what, rule, grant_scopes, granted_ms, expires_ms)
         JOIN sets ON sets.digest = a.read_set`,
      [
        list.map((set) => set.digest),
        list.map((set) => set.viewer),
        list.map((set) => set.channel),
        rows.set,
        rows.n,
        rows.firstEntry,
        rows.patient,
        rows.what,
        rows.rule,
        rows.grantScopes,
        rows.grantedMs,
        rows.expiresMs,
      ],
    );
    if (this.storedSets.size + sets.size > maxKnownSets) this.storedSets.clear();
    for (const hex of sets.keys()) this.storedSets.add(hex);
  }
}

const epochMs = (date: Date | null) => (date === null ? null : date.getTime());

/** The most kinds one stored row holds: its entries take ids id .. id + 7 (migration 005). */
const kindsPerRow = 8;

/**
 * A batch as four tables of columns: the distinct requests (viewer, channel, id, time), the distinct
 * accesses (patient, rule and the grant used), the rows (a request and an access, 1-based) and the
 * entries, each naming its row and what was read. Times go as epoch milliseconds, all a Date holds.
 */
function encodeBatch(batch: readonly AuditEntry[]) {
  const requests = {
    viewer: [] as string[],
    channel: [] as string[],
    requestId: [] as string[],
    readMs: [] as number[],
  };
  const accesses = {
    patient: [] as string[],
    rule: [] as string[],
    grantScopes: [] as (number | null)[],
    grantedMs: [] as (number | null)[],
    expiresMs: [] as (number | null)[],
  };
  const rows = { request: [] as number[], access: [] as number[] };
  const entries = { row: [] as number[], what: [] as string[] };
  // A read's entries are queued together: a request is the previous one unless a field differs (a
  // repeat further on is sent again, which is only longer). Accesses are looked up by patient, rows by
  // request and access.
  let request = 0;
  let previous: AuditEntry | undefined;
  const accessesOf = new Map<string, number[]>();
  const rowOf = new Map<string, { row: number; kinds: number }>();
  for (const entry of batch) {
    const readMs = entry.readAt.getTime();
    if (
      !previous ||
      previous.requestId !== entry.requestId ||
      previous.viewer !== entry.viewer ||
      previous.channel !== entry.channel ||
      previous.readAt.getTime() !== readMs
    ) {
      request = requests.viewer.push(entry.viewer);
      requests.channel.push(entry.channel);
      requests.requestId.push(entry.requestId);
      requests.readMs.push(readMs);
    }
    previous = entry;
    const grantedMs = epochMs(entry.grantGrantedAt);
    const expiresMs = epochMs(entry.accessExpiresAt);
    let known = accessesOf.get(entry.patient);
    if (!known) {
      known = [];
      accessesOf.set(entry.patient, known);
    }
    let access = known.find(
      (index) =>
        accesses.rule[index - 1] === entry.rule &&
        accesses.grantScopes[index - 1] === entry.grantScopes &&
        accesses.grantedMs[index - 1] === grantedMs &&
        accesses.expiresMs[index - 1] === expiresMs,
    );
    if (access === undefined) {
      access = accesses.patient.push(entry.patient);
      accesses.rule.push(entry.rule);
      accesses.grantScopes.push(entry.grantScopes);
      accesses.grantedMs.push(grantedMs);
      accesses.expiresMs.push(expiresMs);
      known.push(access);
    }
    const key = `${request}:${access}`;
    let row = rowOf.get(key);
    if (!row || row.kinds === kindsPerRow) {
      row = { row: rows.request.push(request), kinds: 0 };
      rows.access.push(access);
      rowOf.set(key, row);
    }
    row.kinds++;
    entries.row.push(row.row);
    entries.what.push(entry.what);
  }
  return { requests, accesses, rows, entries };
}

/** The audit log of one process part (`owner`: gateway, a subgraph, all), its gauges and counters wired. */
export function createAuditLog(options: {
  db: Database;
  logger: Logger;
  metrics: GatewayMetrics;
  owner: string;
  flushIntervalMs?: number;
  maxBatchRows?: number;
}): AuditLog {
  const { metrics, owner } = options;
  metrics.auditHealthy.set({ owner }, 1);
  return new AuditLog({
    db: options.db,
    logger: options.logger,
    flushIntervalMs: options.flushIntervalMs,
    maxBatchRows: options.maxBatchRows,
    onDepth: (depth) => metrics.auditQueueDepth.set({ owner }, depth),
    onHealth: (ok) => metrics.auditHealthy.set({ owner }, ok ? 1 : 0),
    onRefused: (count, reason) => metrics.auditRefused.inc({ owner, reason }, count),
  });
}
