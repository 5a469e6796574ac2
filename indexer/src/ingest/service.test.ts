import type { Deployment } from "@carechain/contracts";
import { getStack } from "@carechain/stack/testing";
import { beforeAll, describe, expect, test } from "vitest";
import { TestChain } from "./testing/chain.ts";
import {
  committedCount,
  compareWithChain,
  startTestIngest,
  testIngestOptions,
  testKafka,
  waitForBlock,
} from "./testing/ingest.ts";
import { readCommittedRaw } from "./testing/kafka.ts";

describe("ingest service", () => {
  let chain: TestChain;
  let deployment: Deployment;
  const kafka = testKafka();

  beforeAll(async () => {
    chain = new TestChain(getStack().rpcUrl);
    deployment = await chain.deploy();
    // 4 patients x (2 + 8 x 100) = 3208 events in ~40 blocks.
    await chain.generateReadings(deployment, { patients: 4, batches: 8, perBatch: 100 });
  });

  test("default: backfills every event of the contracts, then follows new blocks", async () => {
    // A small MAX_BLOCK_RANGE so that the backfill takes several ranges (and transactions).
    const { ingest, topics } = await startTestIngest(testIngestOptions(deployment, { maxBlockRange: 8 }));
    try {
      await waitForBlock(ingest, await chain.head());
      const backfill = await compareWithChain(
        kafka,
        topics.events,
        chain,
        deployment,
        committedCount(ingest),
      );
      expect(backfill.chainIds.length).toBe(3209); // + OwnershipTransferred of the deploy
      expect(backfill.missing).toEqual([]);
      expect(backfill.extra).toEqual([]);
      expect(backfill.duplicates).toBe(0);
      expect(backfill.keysOutOfOrder).toBe(0);

      // behavior: live events appear after the backfill
      await chain.generateReadings(deployment, { patients: 1, batches: 2, perBatch: 50 });
      await waitForBlock(ingest, await chain.head());
      const live = await compareWithChain(kafka, topics.events, chain, deployment, committedCount(ingest));
      expect(live.chainIds.length).toBe(3209 + 102);
      expect(live.missing).toEqual([]);
      expect(live.duplicates).toBe(0);
      expect(live.keysOutOfOrder).toBe(0);

      const sample = live.committed.at(-1)!;
      expect(sample.envelope.blockTimestamp).toBeGreaterThan(0);
      expect(sample.message.headers).toMatchObject({
        "event-type": sample.envelope.type,
        "envelope-version": "1",
      });
      // The last committed checkpoint counts every event committed.
      await expect
        .poll(
          async () => JSON.parse((await readCommittedRaw(kafka, topics.checkpoints)).at(-1)!.value).events,
        )
        .toBe(ingest.status().events);
      expect((await ingest.health()).ok).toBe(true);
    } finally {
      await ingest.stop();
    }
  });

  test("behavior: a restart resumes after the committed checkpoint without duplicates", async () => {
    const options = testIngestOptions(deployment);
    const first = await startTestIngest(options);
    const head = await chain.head();
    await waitForBlock(first.ingest, head);
    await first.ingest.stop();
    const stoppedAt = first.ingest.status().indexedBlock ?? -1;
    await chain.generateReadings(deployment, { patients: 1, batches: 1, perBatch: 10 });
    // Other test files mine blocks on the shared anvil: ingest may have gone past `head` before it stopped,
    // and a block with none of our events is checkpointed later, so the resume point is the last committed
    // checkpoint: at least `head` was reached, and never a block ingest had not indexed when it stopped.
    const committed = JSON.parse((await readCommittedRaw(kafka, first.topics.checkpoints)).at(-1)!.value);
    expect(stoppedAt).toBeGreaterThanOrEqual(head);
    expect(committed.block.number).toBeLessThanOrEqual(stoppedAt);
    const second = await startTestIngest(options);
    try {
      expect(second.ingest.status().indexedBlock).toBe(committed.block.number);
      await waitForBlock(second.ingest, await chain.head());
      const result = await compareWithChain(
        kafka,
        second.topics.events,
        chain,
        deployment,
        committedCount(second.ingest),
      );
      expect(result.missing).toEqual([]);
      expect(result.duplicates).toBe(0);
    } finally {
      await second.ingest.stop();
    }
  });
});
