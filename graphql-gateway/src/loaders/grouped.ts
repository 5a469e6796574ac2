import DataLoader from "dataloader";

/**
 * A DataLoader over keys that carry arguments (page size, filters): keys with the same arguments are
 * loaded together, one statement per distinct set of arguments, however many parents ask.
 */
export function groupedLoader<K extends object, V>(
  groupOf: (key: K) => string,
  loadGroup: (keys: K[]) => Promise<V[]>,
): DataLoader<K, V, string> {
  return new DataLoader<K, V, string>(
    async (keys) => {
      const groups = new Map<string, number[]>();
      keys.forEach((key, index) => {
        const group = groupOf(key);
        const list = groups.get(group);
        if (list) list.push(index);
        else groups.set(group, [index]);
      });
      const results = new Array<V>(keys.length);
      await Promise.all(
        [...groups.values()].map(async (indexes) => {
          const values = await loadGroup(indexes.map((index) => keys[index]!));
          indexes.forEach((index, position) => {
            results[index] = values[position]!;
          });
        }),
      );
      return results;
    },
    { cacheKeyFn: (key) => JSON.stringify(key), maxBatchSize: 1000 },
  );
}

/** A DataLoader by address (or id) over one `= ANY($1)` statement; missing keys load as null. */
export function byKeyLoader<V>(
  load: (keys: readonly string[]) => Promise<V[]>,
  keyOf: (value: V) => string,
): DataLoader<string, V | null> {
  return new DataLoader<string, V | null>(
    async (keys) => {
      const rows = await load(keys);
      const found = new Map(rows.map((row) => [keyOf(row), row]));
      return keys.map((key) => found.get(key) ?? null);
    },
    { maxBatchSize: 1000 },
  );
}

/** Like byKeyLoader, for one-to-many: every key gets the (possibly empty) list of its rows. */
export function listByKeyLoader<V>(
  load: (keys: readonly string[]) => Promise<V[]>,
  keyOf: (value: V) => string,
): DataLoader<string, V[]> {
  return new DataLoader<string, V[]>(
    async (keys) => {
      const rows = await load(keys);
      const found = new Map<string, V[]>();
      for (const row of rows) {
        const key = keyOf(row);
        const list = found.get(key);
        if (list) list.push(row);
        else found.set(key, [row]);
      }
      return keys.map((key) => found.get(key) ?? []);
    },
    { maxBatchSize: 1000 },
  );
}
