import type { Deployment } from "@carechain/contracts";
import { getStack } from "@carechain/stack/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestChain } from "./testing/chain.ts";
import { type FaultyProxy, startFaultyProxy } from "./testing/faulty-proxy.ts";
import {
  committedCount,
  compareWithChain,
  startTestIngest,
  testIngestOptions,
  testKafka,
  waitForBlock,
} from "./testing/ingest.ts";

describe("ingest through a failing RPC", () => {
  let chain: TestChain;
  let deployment: Deployment;
  let proxy: FaultyProxy;
  const kafka = testKafka();

  beforeAll(async () => {
    chain = new TestChain(getStack().rpcUrl);
    deployment = await chain.deploy();
    // Spread over many blocks (anvil packs concurrent transactions), so that ingest makes many calls.
    for (let i = 0; i < 5; i++) {
      await chain.generateReadings(deployment, { patients: 1, batches: 4, perBatch: 5 });
      await chain.rpc("anvil_mine", ["0x4"]);
    }
    proxy = await startFaultyProxy(getStack().rpcUrl, { failureRate: 0.5, slowMs: 1_500, maxLogsRange: 3 });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  test("behavior: an RPC that fails half the calls (errors, drops, timeouts, refused ranges) still yields the complete log", async () => {
    const { ingest, topics, common } = await startTestIngest(
      testIngestOptions(deployment, { rpcUrl: proxy.url, rpcTimeoutMs: 1_000, maxBlockRange: 6 }),
    );
    try {
      await waitForBlock(ingest, await chain.head(), 50_000);
      const result = await compareWithChain(kafka, topics.events, chain, deployment, committedCount(ingest));
      expect(result.chainIds.length).toBe(1 + 5 * (2 + 4 * 5));
      expect(result.missing).toEqual([]);
      expect(result.extra).toEqual([]);
      expect(result.duplicates).toBe(0);
      expect(result.keysOutOfOrder).toBe(0);
      // Every kind of fault happened, and ingest counted the failed calls.
      const kinds = ["http503", "rpcError", "dropped", "slow", "refused"] as const;
      expect(
        kinds.filter((kind) => !proxy.stats[kind]),
        JSON.stringify(proxy.stats),
      ).toEqual([]);
      const errors =
        (await common.metrics.text()).match(/carechain_ingest_rpc_errors_total\{[^}]*\} (\d+)/g) ?? [];
      expect(errors.length).toBeGreaterThan(0);
    } finally {
      await ingest.stop();
    }
  });
});
