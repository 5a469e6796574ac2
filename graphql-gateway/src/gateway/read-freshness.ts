import type { Database } from "../database/pool.ts";

/**
 * What the projections looked like when a request arrived, as far as any answer can tell (projection
 * migrations 0006 and 0009): the generation, the version bumped in the transaction of every change, the
 * stamps of the addresses asked about (the version that last changed a row holding each), the count of
 * changes no address was stamped for (a TRUNCATE, a hand-made write), and the next moment a grant or an
 * emergency access expires (access that ends without an event).
 */
export type ReadState = {
  /** `token:version:nextExpiry`: equal keys, same projections and no expiry in between. */
  key: string;
  /** The generation: a rebuilt one starts its versions again. */
  token: string;
  version: bigint;
  /** Changes that stamped no address: each ends every answer kept by address. */
  unattributed: bigint;
  /** The next expiry after (the asking time − the clock margin), in ms; null when nothing expires. */
  nextExpiry: number | null;
  /**
   * The newest stamp among the addresses asked about: an upper bound (an address stamped before this
   * process first read the version counts as stamped then), 0 when none was asked about.
   */
  newestStamp: bigint;
};

type Read = { result: Promise<Reading | null> };
type Reading = Omit<ReadState, "newestStamp">;

/** More addresses than this in memory, and the stamps start again from the version last read. */
const maxStamps = 200_000;

/**
 * Reads the state for requests, one statement for many: a request waits for a read that STARTED after it
 * arrived (the one in flight may have missed a commit it must see), so concurrent requests share the next
 * read instead of one each. At most one read runs and one waits.
 *
 * The address stamps are kept in memory and read incrementally: each read fetches only the stamps above the
 * version it read last, in the same statement (one snapshot) as the version. The projector stamps under
 * read_version's row lock, so versions commit in order and that range misses nothing. An address with no
 * stamp in memory was last stamped at or before `floor` (the version of the first read of this generation,
 * or of the last reset): that is its stamp as far as any answer can tell.
 *
 * The next expiry is asked again only when the version changed or the one known is near: with the same
 * version the expiries are the same rows, so the first one after a later moment is still the one known
 * until that one is reached.
 */
export class ReadFreshness {
  private inFlight: Read | undefined;
  private next: Read | undefined;
  private known: { version: string; nextExpiry: number | null } | undefined;
  /** The stamps above `floor`, complete up to `seen` (token and version of the last read). */
  private readonly stamps = new Map<string, bigint>();
  private floor = 0n;
  private seen: { token: string; version: bigint } | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: { clockMarginMs: number; now?: () => number; maxStamps?: number },
  ) {}

  /**
   * The state as of a moment after the call (see the class comment), with the newest stamp of `addresses`
   * (lower case); null when the projections carry no version (a projector older than migration 0009):
   * nothing can be kept then.
   */
  async current(addresses: readonly string[] = []): Promise<ReadState | null> {
    let read: Read;
    if (!this.inFlight) read = this.start();
    else {
      if (!this.next) {
        const waiting: Read = { result: Promise.resolve(null) };
        waiting.result = this.inFlight.result
          .catch(() => null)
          .then(() => {
            this.next = undefined;
            return this.start().result;
          });
        this.next = waiting;
      }
      read = this.next;
    }
    const reading = await read.result;
    if (!reading) return null;
    // Stamps read after this one can only be newer: more careful, never less.
    let newestStamp = 0n;
    for (const address of addresses) {
      const stamp = this.stamps.get(address) ?? this.floor;
      if (stamp > newestStamp) newestStamp = stamp;
    }
    return { ...reading, newestStamp };
  }

  private start(): Read {
    const read: Read = { result: Promise.resolve(null) };
    read.result = this.read().finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    this.inFlight = read;
    return read;
  }

  private async read(): Promise<Reading | null> {
    const now = this.options.now?.() ?? Date.now();
    const p = this.db.projection;
    const since = this.seen?.version ?? null;
    const { rows } = await this.db.pool.query<{
      token: string;
      version: string;
      unattributed: string;
      stamps: [string, string][];
    }>({
      name: `carechain-read-state:${this.db.projectionSchema}`,
      text: `SELECT token, version, unattributed,
                    (SELECT coalesce(json_agg(json_build_array(address, bumped_at::text)), '[]'::json)
                       FROM ${p}.address_version WHERE bumped_at > $1::bigint) AS stamps
               FROM ${p}.read_version`,
      // No version read yet: none of the stamps is wanted (they are all at or below the floor).
      values: [since === null ? "9223372036854775807" : since.toString()],
    });
    const row = rows[0];
    if (!row) return null;
    this.remember(row.token, BigInt(row.version), row.stamps);
    const version = `${row.token}:${row.version}`;
    const known = this.known;
    if (
      known?.version !== version ||
      (known.nextExpiry !== null && now + this.options.clockMarginMs >= known.nextExpiry)
    ) {
      this.known = { version, nextExpiry: await this.nextExpiry(now) };
    }
    const { nextExpiry } = this.known!;
    return {
      key: `${version}:${nextExpiry ?? "-"}`,
      token: row.token,
      version: BigInt(row.version),
      unattributed: BigInt(row.unattributed),
      nextExpiry,
    };
  }

  /** Takes in the stamps of one read: above what was seen, or, in a new generation, none (a new floor). */
  private remember(token: string, version: bigint, stamps: [string, string][]): void {
    // Reads run one after another (see `current`), so each sees at least the version of the one before.
    if (this.seen?.token !== token) {
      this.reset(token, version);
      return;
    }
    for (const [address, stamp] of stamps) this.stamps.set(address, BigInt(stamp));
    this.seen = { token, version };
    if (this.stamps.size > (this.options.maxStamps ?? maxStamps)) this.reset(token, version);
  }

  private reset(token: string, version: bigint): void {
    this.stamps.clear();
    this.floor = version;
    this.seen = { token, version };
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
