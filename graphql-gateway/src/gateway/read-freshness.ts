import type { Database } from "../database/pool.ts";

/**
 * What the projections looked like when a request arrived, as far as any answer can tell: the generation
 * and version the projector bumps in the transaction of every change (projection migration 0006), and the
 * next moment a grant or an emergency access expires (access that ends without an event). Two answers
 * computed under the same state are the same answer.
 */
export type ReadState = {
  /** `token:version:nextExpiry`: equal keys, same projections and no expiry in between. */
  key: string;
  /** The next expiry after (the asking time − the clock margin), in ms; null when nothing expires. */
  nextExpiry: number | null;
};

/**
 * Reads the state for requests, one statement for many: a request waits for a read that STARTED after it
 * arrived (the one in flight may have missed a commit it must see), so concurrent requests share the next
 * read instead of one each. At most one read runs and one waits.
 *
 * A read asks for the version only (one row, a prepared statement). The next expiry is asked again only
 * when the version changed or the one known is near: with the same version the expiries are the same rows,
 * so the first one after a later moment is still the one known until that one is reached.
 */
export class ReadFreshness {
  private inFlight: Promise<ReadState | null> | undefined;
  private next: Promise<ReadState | null> | undefined;
  private known: { version: string; nextExpiry: number | null } | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: { clockMarginMs: number; now?: () => number },
  ) {}

  /**
   * The state as of a moment after the call (see the class comment); null when the projections carry no
   * version (a projector older than migration 0006): nothing can be cached then.
   */
  current(): Promise<ReadState | null> {
    if (!this.inFlight) return this.start();
    this.next ??= this.inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<ReadState | null> {
    const read = this.read().finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    this.inFlight = read;
    return read;
  }

  private async read(): Promise<ReadState | null> {
    const now = this.options.now?.() ?? Date.now();
    const { rows } = await this.db.pool.query<{ token: string; version: string }>({
      name: `carechain-read-version:${this.db.projectionSchema}`,
      text: `SELECT token, version FROM ${this.db.projection}.read_version`,
    });
    const row = rows[0];
    if (!row) return null;
    const version = `${row.token}:${row.version}`;
    const known = this.known;
    if (
      known?.version !== version ||
      (known.nextExpiry !== null && now + this.options.clockMarginMs >= known.nextExpiry)
    ) {
      this.known = { version, nextExpiry: await this.nextExpiry(now) };
    }
    const { nextExpiry } = this.known!;
    return { key: `${version}:${nextExpiry ?? "-"}`, nextExpiry };
  }

  /** The first grant or emergency access expiry after `now` − the clock margin (the database's clock may lag). */
  private async nextExpiry(now: number): Promise<number | null> {
    const p = this.db.projection;
    const [row] = await this.db.query<{ next_expiry: Date | null }>(
      `SELECT least((SELECT min(g.expires_at) FROM ${p}.grants g WHERE g.expires_at > $1),
                    (SELECT min(e.expires_at) FROM ${p}.emergency_access e WHERE e.expires_at > $1)) AS next_expiry`,
      [new Date(now - this.options.clockMarginMs)],
    );
    return row?.next_expiry?.getTime() ?? null;
  }
}
