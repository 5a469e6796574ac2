import { createSilentLogger, type EventEnvelope } from "@carechain/common";
import { describe, expect, test } from "vitest";
import type { FeedItem, FeedPage } from "./feed-log.ts";
import { resumableEventStream } from "./stream.ts";

// A pure unit: an in-memory feed (rows by seq) and hub stand in for PostgreSQL and the feed reader, so that
// the switch from replay to live can be driven into its races deterministically. The database path is
// covered by api.test.ts.

const origin = "a".repeat(12);
const item = (seq: number, at = origin): FeedItem => ({
  seq: BigInt(seq),
  origin: at,
  envelope: { id: `e${seq}` } as unknown as EventEnvelope,
});

function feed() {
  const rows: FeedItem[] = [];
  const listeners = new Set<(item: FeedItem) => void>();
  let beforeRead: (() => void) | undefined;
  return {
    rows,
    listeners,
    /** Commits `seq` to the table (not yet seen by the feed reader). */
    commit: (seq: number, at = origin) => rows.push(item(seq, at)),
    /** The feed reader publishing a committed row. */
    publish: (seq: number, at = origin) => {
      for (const listener of listeners) listener(item(seq, at));
    },
    onRead: (hook: () => void) => {
      beforeRead = hook;
    },
    stream: (start: number, options: { pageSize?: number; maxQueued?: number } = {}) =>
      resumableEventStream<string>({
        start: { origin, seq: BigInt(start) },
        subscribe: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
        readPage: async (after): Promise<FeedPage> => {
          const hook = beforeRead;
          beforeRead = undefined;
          hook?.();
          const limit = options.pageSize ?? 100;
          const items = rows.filter((row) => row.seq > after).slice(0, limit);
          return {
            origin: rows.at(-1)?.origin ?? origin,
            horizon: rows.at(-1)?.seq ?? 0n,
            items,
            full: items.length === limit,
          };
        },
        matches: () => true,
        accept: async (feedItem) => feedItem.envelope.id,
        onEnd: () => {},
        logger: createSilentLogger(),
        maxQueued: options.maxQueued,
      }),
  };
}

async function take(iterator: AsyncIterator<string>, count: number): Promise<string[]> {
  const values: string[] = [];
  for (let i = 0; i < count; i++) values.push((await iterator.next()).value as string);
  return values;
}

describe("resumableEventStream", () => {
  test("default: replays after the cursor, then goes live", async () => {
    const f = feed();
    for (const seq of [1, 2, 3]) f.commit(seq);
    const stream = f.stream(1);
    expect(await take(stream, 2)).toEqual(["e2", "e3"]);
    f.commit(4);
    f.publish(4);
    expect(await take(stream, 1)).toEqual(["e4"]);
    await stream.return!();
  });

  test("behavior: an event published while the replay reads is delivered once", async () => {
    const f = feed();
    for (const seq of [1, 2]) f.commit(seq);
    // The feed reader publishes 2 (already in the table) and 3 (committed meanwhile) during the read.
    f.onRead(() => {
      f.publish(2);
      f.commit(3);
      f.publish(3);
    });
    const stream = f.stream(0);
    expect(await take(stream, 3)).toEqual(["e1", "e2", "e3"]);
    f.commit(4);
    f.publish(4);
    expect(await take(stream, 1)).toEqual(["e4"]);
    await stream.return!();
  });

  test("behavior: a subscriber that falls behind the live buffer replays instead of losing events", async () => {
    const f = feed();
    const stream = f.stream(0, { maxQueued: 3 });
    f.commit(1);
    f.publish(1);
    expect(await take(stream, 1)).toEqual(["e1"]);
    // Ten events while the client reads nothing: more than the buffer holds.
    for (let seq = 2; seq <= 11; seq++) {
      f.commit(seq);
      f.publish(seq);
    }
    const values = await take(stream, 10);
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 2}`));
    await stream.return!();
  });

  test("behavior: multi-page replay keeps order", async () => {
    const f = feed();
    for (let seq = 1; seq <= 25; seq++) f.commit(seq);
    const stream = f.stream(5, { pageSize: 4 });
    expect(await take(stream, 20)).toEqual(Array.from({ length: 20 }, (_, i) => `e${i + 6}`));
    await stream.return!();
  });

  test("error: a feed from another generation ends the stream with CURSOR_EXPIRED", async () => {
    const f = feed();
    f.commit(1);
    const stream = f.stream(0);
    expect(await take(stream, 1)).toEqual(["e1"]);
    f.publish(1, "b".repeat(12));
    await expect(stream.next()).rejects.toMatchObject({ extensions: { code: "CURSOR_EXPIRED" } });
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
