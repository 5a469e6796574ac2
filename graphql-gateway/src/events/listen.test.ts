import { randomBytes } from "node:crypto";
import { createSilentLogger, eventFeedChannel } from "@carechain/common";
import { getStack } from "@carechain/stack/testing";
import { afterEach, describe, expect, test, vi } from "vitest";
import { createDatabase, type Database } from "../database/pool.ts";
import { listenToFeed } from "./listen.ts";

// The LISTEN loop on the real PostgreSQL of the vitest global setup: its own pool (named, so that its
// connections can be found and killed), a logger whose warnings the tests read.

const open: Database[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

function setup() {
  const applicationName = `listen_test_${randomBytes(4).toString("hex")}`;
  const db = createDatabase({
    url: getStack().databaseUrl,
    projectionSchema: "unused",
    gatewaySchema: "unused",
    max: 3,
    applicationName,
  });
  open.push(db);
  const logger = createSilentLogger();
  const warn = vi.spyOn(logger, "warn");
  const warnings = () => warn.mock.calls.map((call) => String(call[1]));
  let rounds = 0;
  const round = async () => {
    await db.query("SELECT 1");
    rounds++;
  };
  const listening = async () =>
    (
      await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND query LIKE 'LISTEN%' AND state = 'idle'`,
        [applicationName],
      )
    )[0]!.n;
  const notify = () => db.query("SELECT pg_notify($1, 'test')", [eventFeedChannel]);
  return { db, logger, warnings, round, rounds: () => rounds, listening, applicationName, notify };
}

async function until(condition: () => boolean | Promise<boolean>, what: string) {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("listenToFeed", () => {
  test("default: a round at once, then one after each NOTIFY on the feed channel", async () => {
    const t = setup();
    const stop = new AbortController();
    const feed = listenToFeed(t.db, t.logger, t.round, {
      signal: stop.signal,
      pollMs: 600_000, // no poll in this test: only notifications wake it
      name: "test",
      work: "reading",
    });
    await until(() => t.rounds() === 1, "the first round");
    expect(feed.healthy()).toBe(true);
    await t.notify();
    await until(() => t.rounds() === 2, "a round after the NOTIFY");
    feed.wake();
    await until(() => t.rounds() === 3, "a round after wake()");
    stop.abort();
    await feed.done;
    expect(await t.listening()).toBe(0); // closed, not left LISTENing in the pool
  });

  test("behavior: the LISTEN connection killed, it polls meanwhile and LISTENs again", async () => {
    const t = setup();
    const stop = new AbortController();
    const feed = listenToFeed(t.db, t.logger, t.round, {
      signal: stop.signal,
      pollMs: 100,
      name: "test",
      work: "reading",
    });
    await until(async () => (await t.listening()) === 1, "the LISTEN connection");
    await t.db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`,
      [t.applicationName],
    );
    await until(() => t.warnings().some((msg) => /LISTEN connection lost/.test(msg)), "the loss logged");
    const after = t.rounds();
    await until(() => t.rounds() > after + 2, "rounds by the poll");
    await until(async () => (await t.listening()) === 1, "LISTENing again");
    stop.abort();
    await feed.done;
  });

  test("behavior: a loop nobody stopped neither holds the pool's end up nor queries the ended pool", async () => {
    const t = setup();
    const feed = listenToFeed(t.db, t.logger, t.round, {
      signal: new AbortController().signal, // never aborted: a start-up that failed before stop() existed
      pollMs: 50,
      name: "test",
      work: "reading",
    });
    await until(async () => (await t.listening()) === 1, "the LISTEN connection");
    // The LISTEN connection stays checked out while the loop runs: pool.end() would wait for it forever.
    await t.db.close();
    await feed.done;
    const rounds = t.rounds();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.rounds()).toBe(rounds);
    expect(t.warnings()).toEqual([]);
  });
});
