import { describe, expect, test } from "vitest";
import { type IngestStatus, ingestHealthCheck } from "./health.ts";

const now = 1_000_000;
const running: IngestStatus = {
  state: "running",
  chainId: 31337,
  indexedBlock: 100,
  indexedHash: null,
  headBlock: 100,
  events: 5,
  kafkaConnected: true,
  lastSuccessAt: now - 1_000,
  lastProgressAt: now - 1_000,
};

function check(status: Partial<IngestStatus>, kafka: string | null = null) {
  return ingestHealthCheck(() => ({ ...running, ...status }), {
    pollIntervalMs: 1_000,
    confirmations: 2,
    probeKafka: async () => kafka,
    now: () => now,
  })();
}

describe("ingestHealthCheck", () => {
  test("default: running, recent success, Kafka answering, caught up: healthy", async () => {
    expect(await check({})).toEqual({
      ok: true,
      details: { state: "running", indexedBlock: 100, headBlock: 100, lagBlocks: 0, kafkaConnected: true },
    });
  });

  test("behavior: a lag within the confirmations and an old last progress is healthy", async () => {
    expect((await check({ headBlock: 102, lastProgressAt: now - 120_000 })).ok).toBe(true);
  });

  test("error: Kafka does not answer: unhealthy, and the body says why", async () => {
    const result = await check({}, "Connection error: connect ECONNREFUSED");
    expect(result.ok).toBe(false);
    expect(result.details?.reasons).toEqual([
      "Kafka does not answer: Connection error: connect ECONNREFUSED",
    ]);
  });

  test("error: the head is ahead and the indexed block has not moved for a while", async () => {
    const result = await check({ headBlock: 150, lastProgressAt: now - 45_000 });
    expect(result.ok).toBe(false);
    expect(result.details?.reasons).toEqual(["no progress for 45 s while the head is 50 blocks ahead"]);
  });

  test("error: no successful step recently, or not running", async () => {
    expect((await check({ lastSuccessAt: now - 60_000 })).details?.reasons).toEqual([
      "no successful step for 60 s",
    ]);
    expect((await check({ state: "failed" })).details?.reasons).toEqual(["ingest is failed"]);
  });
});
