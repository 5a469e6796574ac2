/**
 * The event ids already handled, to drop duplicates by id (webhook resends, a redelivery, a pull restarted
 * after CURSOR_EXPIRED). Give one backed by your own store (a unique key on the event id) to drop them
 * across restarts too; the default remembers the most recent ids in memory.
 */
export interface SeenEvents {
  has(id: string): boolean | Promise<boolean>;
  add(id: string): void | Promise<void>;
}

/** The last `max` ids in memory (the oldest forgotten first). */
export function memorySeenEvents(max = 100_000): SeenEvents & { readonly size: number } {
  const ids = new Set<string>();
  return {
    has: (id) => ids.has(id),
    add(id) {
      ids.delete(id);
      ids.add(id);
      if (ids.size > max) ids.delete(ids.values().next().value as string);
    },
    get size() {
      return ids.size;
    },
  };
}
