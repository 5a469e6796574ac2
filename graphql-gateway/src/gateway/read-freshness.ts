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
  /** The newest stamp among the addresses asked about (0 when none was stamped). */
  newestStamp: bigint;
};

type Read = { addresses: Set<string>; result: Promise<Reading | null> };
type Reading = Omit<ReadState, "newestStamp"> & { stamps: Map<string, bigint> };

/**
 * Reads the state for requests, one statement for many: a request waits for a read that STARTED after it
 * arrived (the one in flight may have missed a commit it must see), so concurrent requests share the next
 * read instead of one each, and the addresses they ask about are looked up together. At most one read runs
 * and one waits.
 *
 * The next expiry is asked again only when the version changed or the one known is near: with the same
 * version the expiries are the same rows, so the first one after a later moment is still the one known
 * until that one is reached.
 */
export class ReadFreshness {
  private inFlight: Read | undefined;
  private next: Read | undefined;
  private known: { version: string; nextExpiry: number | null } | undefined;

  constructor(
    private readonly db: Database,
    private readonly options: { clockMarginMs: number; now?: () => number },
  ) {}

  /**
   * The state as of a moment after the call (see the class comment), with the newest stamp of `addresses`
   * (lower case); null when the projections carry no version (a projector older than migration 0009):
   * nothing can be kept then.
   */
  async current(addresses: readonly string[] = []): Promise<ReadState | null> {
    let read: Read;
    if (!this.inFlight) read = this.start(new Set(addresses));
    else {
      if (!this.next) {
        const waiting: Read = { addresses: new Set(), result: Promise.resolve(null) };
        waiting.result = this.inFlight.result
          .catch(() => null)
          .then(() => {
            this.next = undefined;
            return this.start(waiting.addresses).result;
          });
        this.next = waiting;
      }
      read = this.next;
      for (const address of addresses) read.addresses.add(address);
    }
    const reading = await read.result;
    if (!reading) return null;
    let newestStamp = 0n;
    for (const address of addresses) {
      const stamp = reading.stamps.get(address);
      if (stamp !== undefined && stamp > newestStamp) newestStamp = stamp;
    }
    const { stamps: _, ...state } = reading;
    return { ...state, newestStamp };
  }

  private start(addresses: Set<string>): Read {
    const read: Read = { addresses, result: Promise.resolve(null) };
    read.result = this.read([...addresses]).finally(() => {
      if (this.inFlight === read) this.inFlight = undefined;
    });
    this.inFlight = read;
    return read;
  }

  private async read(addresses: string[]): Promise<Reading | null> {
    const now = this.options.now?.() ?? Date.now();
    const p = this.db.projection;
    const { rows } = await this.db.pool.query<{
      token: string;
      version: string;
      unattributed: string;
      stamps: Record<string, string | number>;
    }>({
      name: `carechain-read-state:${this.db.projectionSchema}`,
      text: `SELECT token, version, unattributed,
                    (SELECT coalesce(json_object_agg(address, bumped_at), '{}'::json)
                       FROM ${p}.address_version WHERE address = ANY($1::text[])) AS stamps
               FROM ${p}.read_version`,
      values: [addresses],
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
    return {
      key: `${version}:${nextExpiry ?? "-"}`,
      token: row.token,
      version: BigInt(row.version),
      unattributed: BigInt(row.unattributed),
      nextExpiry,
      stamps: new Map(Object.entries(row.stamps).map(([address, stamp]) => [address, BigInt(stamp)])),
    };
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
