import type { Logger } from "@carechain/common";
import { sleep } from "@carechain/common";
import type { Database } from "../database/pool.ts";
import type { ReadKind } from "../policy/rules.ts";

export type AuditChannel = "query" | "subscription";

/** One read of a patient's data by someone else: who, whose, what, under which rule, when, in which request. */
export type AuditEntry = {
  viewer: string;
  patient: string;
  what: ReadKind;
  rule: "grant" | "emergency" | "alert-recipient";
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
  record(entry: AuditEntry): void;
}

/**
 * The audit log, written off the request path: `record` only queues; the queue is flushed every
 * `flushIntervalMs` or as soon as it holds `maxBatchRows` rows, each flush one multi-row INSERT. A failed
 * flush puts its rows back; `stop` flushes until the queue is empty, so a clean shutdown loses nothing.
 */
export class AuditLog implements AuditSink {
  private queue: AuditEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  readonly flushIntervalMs: number;
  readonly maxBatchRows: number;

  constructor(
    private readonly options: {
      db: Database;
      logger: Logger;
      flushIntervalMs?: number;
      maxBatchRows?: number;
      /** Called with the queue depth whenever it changes (a metrics gauge). */
      onDepth?: (depth: number) => void;
    },
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxBatchRows = options.maxBatchRows ?? 500;
  }

  get depth(): number {
    return this.queue.length;
  }

  start(): this {
    this.timer ??= setInterval(() => this.flushInBackground(), this.flushIntervalMs);
    this.timer.unref();
    return this;
  }

  record(entry: AuditEntry): void {
    this.queue.push(entry);
    this.options.onDepth?.(this.queue.length);
    if (this.queue.length >= this.maxBatchRows) this.flushInBackground();
    if (this.stopped) this.options.logger.warn("audit entry recorded after stop; flushing it now");
  }

  /** Writes everything queued now (in batches of `maxBatchRows`); rejects if a batch fails (rows kept). */
  flush(): Promise<void> {
    // One flush at a time: a second caller waits for the running one, then flushes what is left.
    const run = async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatchRows);
        try {
          await this.insert(batch);
        } catch (error) {
          this.queue.unshift(...batch);
          throw error;
        } finally {
          this.options.onDepth?.(this.queue.length);
        }
      }
    };
    const next = (this.flushing ?? Promise.resolve()).catch(() => {}).then(run);
    this.flushing = next;
    next
      .finally(() => {
        if (this.flushing === next) this.flushing = undefined;
      })
      .catch(() => {});
    return next;
  }

  /** Stops the timer and flushes what is queued, retrying a failing database a few times. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (attempt >= 4) {
          this.options.logger.error(
            { err: error, lost: this.queue.length },
            "audit log: could not flush on stop",
          );
          throw error;
        }
        await sleep(200 * 2 ** attempt);
      }
    }
  }

  private flushInBackground(): void {
    if (this.queue.length === 0) return;
    this.flush().catch((error: unknown) => {
      this.options.logger.error(
        { err: error, queued: this.queue.length },
        "audit log flush failed; will retry",
      );
    });
  }

  private async insert(batch: AuditEntry[]): Promise<void> {
    const { db } = this.options;
    await db.query(
      `INSERT INTO ${db.gateway}.audit_log
         (viewer, patient, what, rule, grant_scopes, grant_granted_at, access_expires_at, channel, request_id, read_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::smallint[], $6::timestamptz[],
                            $7::timestamptz[], $8::text[], $9::text[], $10::timestamptz[])`,
      [
        batch.map((e) => e.viewer),
        batch.map((e) => e.patient),
        batch.map((e) => e.what),
        batch.map((e) => e.rule),
        batch.map((e) => e.grantScopes),
        batch.map((e) => e.grantGrantedAt),
        batch.map((e) => e.accessExpiresAt),
        batch.map((e) => e.channel),
        batch.map((e) => e.requestId),
        batch.map((e) => e.readAt),
      ],
    );
  }
}
