import type { Logger } from "@carechain/common";

/**
 * An async iterator over the events `subscribe` hands over that pass `accept` (the policy), in order, with
 * at most `maxQueued` waiting: a subscriber too slow loses its oldest events, not the process its memory.
 * `return()` (the client completes, or disconnects) ends it at once, even while it waits. An `accept` that
 * throws denies: never delivered unchecked.
 */
export function eventStream<E, T>(options: {
  subscribe: (listener: (event: E) => void) => () => void;
  accept: (event: E) => Promise<T | null>;
  onEnd: () => void;
  logger: Logger;
  maxQueued?: number;
}): AsyncIterableIterator<T> {
  const { accept, logger } = options;
  const maxQueued = options.maxQueued ?? 1000;
  const pending: E[] = [];
  const ready: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  let draining = false;

  const unsubscribe = options.subscribe((event) => {
    if (done) return;
    if (pending.length >= maxQueued) {
      pending.shift();
      logger.warn("subscriber too slow: dropped its oldest queued event");
    }
    pending.push(event);
    void drain();
  });

  async function drain() {
    if (draining) return;
    draining = true;
    try {
      while (!done && pending.length > 0) {
        const value = await accept(pending.shift()!).catch((error: unknown) => {
          // The database is unreachable, say: deny and say so.
          logger.error({ err: error }, "subscription policy check failed; event not delivered");
          return null;
        });
        if (value === null || done) continue;
        if (waiting) {
          const resolve = waiting;
          waiting = undefined;
          resolve({ value, done: false });
        } else {
          ready.push(value);
        }
      }
    } finally {
      draining = false;
    }
  }

  function finish(): IteratorResult<T> {
    if (!done) {
      done = true;
      unsubscribe();
      options.onEnd();
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return { value: undefined, done: true };
  }

  return {
    next: () => {
      if (ready.length > 0) return Promise.resolve({ value: ready.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        waiting = resolve;
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
