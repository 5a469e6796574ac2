import type { Logger } from "@carechain/common";
import { expiredCursor } from "./cursor.ts";
import type { FeedItem, FeedPage } from "./feed-log.ts";

/**
 * The events of the feed after `start`, for one subscriber: first replayed from PostgreSQL (what happened
 * while it was away), then live from the hub, without gap or duplicate at the switch. Why it holds: the hub
 * listener is registered BEFORE the first read, so every item the feed reader publishes from then on is
 * buffered; everything it published earlier was committed earlier, so the replay reads it. Replay ends at
 * the horizon it saw (the feed's last seq in the same snapshot), and live items at or below the last seq
 * seen are skipped. A subscriber that falls more than `maxQueued` live items behind loses nothing either:
 * the buffer is dropped and it replays from the table again (unlike eventStream, which drops the oldest).
 *
 * `accept` decides and maps one item (null: not for this subscriber); when it throws (say PostgreSQL is
 * down), or the feed was rebuilt (CURSOR_EXPIRED), the stream ends with that error: never a silent skip.
 * The subscriber then resumes with the cursor of the last event it received.
 */
export function resumableEventStream<T>(options: {
  start: { origin: string; seq: bigint };
  subscribe: (listener: (item: FeedItem) => void) => () => void;
  /** Items after `after` (already narrowed by type and patient), the page as readFeedPage returns it. */
  readPage: (after: bigint) => Promise<FeedPage>;
  /** The same narrowing for live items. */
  matches: (item: FeedItem) => boolean;
  accept: (item: FeedItem) => Promise<T | null>;
  onEnd: () => void;
  logger: Logger;
  maxQueued?: number;
  /** Accepted values waiting for the client before the replay pauses. */
  maxReady?: number;
}): AsyncIterableIterator<T> {
  const maxQueued = options.maxQueued ?? 1000;
  const maxReady = options.maxReady ?? 100;
  const origin = options.start.origin;
  let lastSeq = options.start.seq;
  let live: FeedItem[] = [];
  let overflowed = false;
  let done = false;
  let failure: unknown;
  const ready: T[] = [];
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  let wakeProducer: (() => void) | undefined;

  const unsubscribe = options.subscribe((item) => {
    // Only what this subscriber wants queues (a new generation's items do: they end the stream).
    if (done || (item.origin === origin && !options.matches(item))) return;
    if (live.length >= maxQueued) {
      live = [];
      overflowed = true;
      options.logger.info("subscriber behind: replaying from the event feed");
    } else if (!overflowed) {
      live.push(item);
    }
    wakeProducer?.();
  });

  const pause = () =>
    new Promise<void>((resolve) => {
      wakeProducer = resolve;
    });

  async function emit(value: T): Promise<void> {
    if (waiting) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve({ value, done: false });
      return;
    }
    ready.push(value);
    while (!done && ready.length >= maxReady) await pause();
  }

  async function deliver(item: FeedItem): Promise<void> {
    lastSeq = item.seq;
    const value = await options.accept(item);
    if (value !== null && !done) await emit(value);
  }

  async function run(): Promise<void> {
    let replaying = true;
    while (!done) {
      if (replaying) {
        // The read below covers whatever the hub published before it; what it publishes after is buffered.
        overflowed = false;
        live = [];
        const page = await options.readPage(lastSeq);
        if (page.origin !== origin) throw expiredCursor();
        for (const item of page.items) {
          if (done) return;
          await deliver(item);
        }
        if (!page.full && !overflowed) {
          // Caught up: everything up to the horizon was read; the hub's buffer holds what came after.
          if (page.horizon > lastSeq) lastSeq = page.horizon;
          replaying = false;
          live = live.filter((item) => item.seq > lastSeq || item.origin !== origin);
        }
        continue;
      }
      if (overflowed) {
        overflowed = false;
        live = [];
        replaying = true;
        continue;
      }
      const item = live.shift();
      if (!item) {
        const woken = pause();
        if (live.length === 0 && !overflowed && !done) await woken;
        continue;
      }
      if (item.origin !== origin) throw expiredCursor();
      if (item.seq <= lastSeq || !options.matches(item)) continue;
      await deliver(item);
    }
  }

  void run().then(
    () => finish(),
    (error: unknown) => {
      if (done) return;
      options.logger.warn({ err: error }, "event subscription ended with an error");
      // To the client waiting now, or to its next call (after the values already accepted).
      const pending = waiting;
      waiting = undefined;
      if (!pending) failure = error;
      finish();
      pending?.reject(error);
    },
  );

  function finish(): IteratorResult<T> {
    if (!done) {
      done = true;
      unsubscribe();
      options.onEnd();
      wakeProducer?.();
      waiting?.resolve({ value: undefined, done: true });
      waiting = undefined;
    }
    return { value: undefined, done: true };
  }

  return {
    next: () => {
      if (ready.length > 0) {
        const value = ready.shift()!;
        wakeProducer?.();
        return Promise.resolve({ value, done: false });
      }
      if (failure !== undefined) {
        const error = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return: () => Promise.resolve(finish()),
    throw: (error?: unknown) => {
      finish();
      return Promise.reject(error);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
