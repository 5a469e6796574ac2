import { eventFeedChannel, type Logger, sleep } from "@carechain/common";
import type pg from "pg";
import type { Database } from "../database/pool.ts";

export type FeedListener = {
  /** Runs a round now, as a notification does. */
  wake(): void;
  /** False while the last round failed (PostgreSQL cannot be read). */
  healthy(): boolean;
  /** Resolves once the loop has ended and its LISTEN connection is closed. */
  done: Promise<void>;
};

/**
 * Follows the projector's committed event feed for a reader of it (the gateway's live feed, the webhook
 * delivery service): `round` runs at once, after each NOTIFY on the feed channel, and every `pollMs`
 * otherwise, since a notification can be missed (the LISTEN connection dropped: it is closed on its error
 * and opened again before the next round, the poll covering the gap). A failing round is retried after
 * `pollMs` x failures (at most 10 s), logged at the first failure and every 30th.
 *
 * Ends when `signal` aborts, and also when the pool is being ended: a reader its owner never stopped (a
 * start-up that failed half-way) must neither query an ended pool nor hold its end up with the LISTEN
 * connection checked out.
 */
export function listenToFeed(
  db: Database,
  logger: Logger,
  round: () => Promise<void>,
  options: { signal: AbortSignal; pollMs: number; name: string; work: string },
): FeedListener {
  const { signal, pollMs, name } = options;
  let wake: (() => void) | undefined;
  let listener: pg.PoolClient | undefined;
  let healthy = false;
  const over = () => signal.aborted || db.pool.ending;

  async function listen(): Promise<void> {
    if (listener) return;
    const client = await db.pool.connect();
    client.on("notification", () => wake?.());
    client.on("error", (error) => {
      logger.warn({ err: error }, `${name}: LISTEN connection lost; polling until it is back`);
      if (listener === client) listener = undefined;
      client.release(error);
    });
    try {
      await client.query(`LISTEN ${eventFeedChannel}`);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    listener = client;
  }

  const done = (async () => {
    let failures = 0;
    while (!over()) {
      const woken = new Promise<void>((resolve) => {
        wake = resolve;
      });
      try {
        await listen();
        await round();
        healthy = true;
        failures = 0;
      } catch (error) {
        healthy = false;
        if (over()) break; // the pool ended under the round: nothing to retry
        failures++;
        if (failures === 1 || failures % 30 === 0)
          logger.warn({ err: error, failures }, `${name}: ${options.work} failed; retrying`);
      }
      if (over()) break;
      await Promise.race([woken, sleep(failures > 0 ? Math.min(pollMs * failures, 10_000) : pollMs, signal)]);
    }
    // Closed, not pooled: a pooled connection would keep LISTENing for whoever takes it next.
    listener?.release(true);
    listener = undefined;
  })();

  return { wake: () => wake?.(), healthy: () => healthy, done };
}
