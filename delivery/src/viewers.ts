import { type Database, loadViewer, type Viewer } from "@carechain/gateway";

type Owner = Parameters<typeof loadViewer>[1];

/**
 * The subscription owners' roles, kept half a minute, for the filler and the senders alike: a role changes
 * only with a registration on chain, and a read decision depends on the account, not its role, while the
 * grants every decision reads (facts) are loaded fresh for each batch of decisions.
 */
export class Viewers {
  private readonly cache = new Map<string, { viewer: Promise<Viewer>; until: number }>();

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 30_000,
  ) {}

  of(owner: string): Promise<Viewer> {
    const key = owner.toLowerCase();
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.viewer;
    // The promise is kept, so that concurrent decisions about one owner load its role once.
    const viewer = loadViewer(this.db, key as Owner);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { viewer, until: Date.now() + this.ttlMs });
    viewer.catch(() => this.cache.delete(key));
    return viewer;
  }
}
