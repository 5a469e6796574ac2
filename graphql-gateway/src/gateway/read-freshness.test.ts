/**
 * The read state on PostgreSQL: stamps are read incrementally (only those above the version read last), and
 * every address the process has not seen stamped counts as stamped at the first version it read.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createTestGateway, newAccount, type TestGateway } from "../testing/index.ts";
import { ReadFreshness } from "./read-freshness.ts";

let harness: TestGateway;

beforeAll(async () => {
  harness = await createTestGateway({ answerCache: { maxEntries: 0 } });
});

afterAll(async () => {
  await harness?.stop();
});

/** What the projector's stampAddresses does: a new version, and the addresses stamped with it. */
async function stamp(...addresses: string[]): Promise<bigint> {
  const p = harness.db.projection;
  const [row] = await harness.db.query<{ version: string }>(
    `WITH v AS (UPDATE ${p}.read_version SET version = version + 1 RETURNING version)
     INSERT INTO ${p}.address_version (address, bumped_at) SELECT unnest($1::text[]), version FROM v
     ON CONFLICT (address) DO UPDATE SET bumped_at = EXCLUDED.bumped_at
     RETURNING bumped_at AS version`,
    [addresses],
  );
  return BigInt(row!.version);
}

const fresh = (maxStamps?: number) => new ReadFreshness(harness.db, { clockMarginMs: 1_000, maxStamps });
const address = () => newAccount().address.toLowerCase();

describe("ReadFreshness", () => {
  test("default: an address stamped after a read is seen by the next one; others keep their stamp", async () => {
    const [a, b] = [address(), address()];
    const freshness = fresh();
    const first = await freshness.current([a, b]);
    const stampedAt = await stamp(a);
    const second = await freshness.current([a]);
    expect(second?.version).toBe(stampedAt);
    expect(second?.newestStamp).toBe(stampedAt);
    // b was not stamped since the first read: its stamp is at most that read's version.
    expect((await freshness.current([b]))?.newestStamp).toBe(first?.version);
    expect((await freshness.current([]))?.newestStamp).toBe(0n);
  });

  test("behavior: a stamp from before the first read counts as the first read's version, never as older", async () => {
    const a = address();
    const stampedAt = await stamp(a);
    await stamp(address());
    const freshness = fresh();
    const state = await freshness.current([a]);
    expect(state!.version).toBeGreaterThan(stampedAt);
    expect(state!.newestStamp).toBe(state!.version);
  });

  test("behavior: each read asks only for the stamps above the last version read", async () => {
    const freshness = fresh();
    await freshness.current([]);
    const texts: unknown[][] = [];
    const query = harness.db.pool.query.bind(harness.db.pool);
    harness.db.pool.query = ((config: { values?: unknown[] }, ...rest: unknown[]) => {
      if (config?.values) texts.push(config.values);
      return (query as (...args: unknown[]) => unknown)(config, ...rest);
    }) as typeof harness.db.pool.query;
    try {
      const a = address();
      const before = (await freshness.current([a]))!.version;
      const stampedAt = await stamp(a);
      expect((await freshness.current([a]))?.newestStamp).toBe(stampedAt);
      // The two reads asked from the versions they had seen, not for a's stamp by name.
      expect(texts.map((values) => values[0])).toEqual([before.toString(), before.toString()]);
    } finally {
      harness.db.pool.query = query;
    }
  });

  test("behavior: a new generation, or more stamps than kept, start again from the version read", async () => {
    const a = address();
    const freshness = fresh(2);
    await freshness.current([a]);
    await stamp(address(), address(), address());
    const reset = await freshness.current([a]);
    // Three stamps are more than two: forgotten, a's stamp is now that read's version.
    expect(reset!.newestStamp).toBe(reset!.version);

    const p = harness.db.projection;
    const [{ token }] = (await harness.db.query<{ token: string }>(
      `SELECT token FROM ${p}.read_version`,
    )) as [{ token: string }];
    const generation = "00000000-0000-4000-8000-000000000001";
    await harness.db.query(`UPDATE ${p}.read_version SET token = $1, version = 1`, [generation]);
    try {
      const rebuilt = await freshness.current([a]);
      expect(rebuilt).toMatchObject({ token: generation, version: 1n, newestStamp: 1n });
    } finally {
      await harness.db.query(`UPDATE ${p}.read_version SET token = $1, version = version + $2`, [
        token,
        reset!.version,
      ]);
    }
  });
});
