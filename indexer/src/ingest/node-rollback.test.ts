import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCommon, createSilentLogger, decodeLog, type EventEnvelope } from "@carechain/common";
import type { Deployment } from "@carechain/contracts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { referenceFold } from "../projector/reference-fold.ts";
import { createProjector } from "../projector/service.ts";
import { createProjectorWorld } from "../projector/testing/harness.ts";
import { startPrivateAnvil } from "./testing/anvil.ts";
import { TestChain } from "./testing/chain.ts";
import {
  committedCount,
  startTestIngest,
  testIngestOptions,
  testKafka,
  waitForChainHead,
} from "./testing/ingest.ts";
import { readCommittedEnvelopes } from "./testing/kafka.ts";

/**
 * A node that forgets blocks ingest published: anvil restarted from an older state (what a crash between
 * two state dumps leaves), so the orphaned blocks are unknown to it, even by hash. Private anvils: the
 * shared one serves other tests.
 */
describe("ingest on a node that forgot published blocks", () => {
  let dir: string;
  const kafka = testKafka();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "node-rollback-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A private anvil with a deployment and some activity (`patients` of readings). */
  async function freshChain() {
    const anvil = await startPrivateAnvil();
    const chain = new TestChain(anvil.rpcUrl);
    const deployment = await chain.deploy();
    await chain.generateReadings(deployment, { patients: 2, batches: 2, perBatch: 5 });
    return { anvil, chain, deployment };
  }

  /** Activity in at least `blocks` blocks (anvil may pack concurrent transactions into one block). */
  async function mineActivity(chain: TestChain, deployment: Deployment, blocks: number) {
    const start = await chain.head();
    while ((await chain.head()) - start < blocks)
      await chain.generateReadings(deployment, { patients: 1, batches: 2, perBatch: 3 });
  }

  const idsAbove = async (chain: TestChain, deployment: Deployment, block: number) =>
    (await chain.logs(deployment))
      .filter((log) => Number(log.blockNumber) > block)
      .map((log) => `${deployment.chainId}:${log.blockHash}:${log.logIndex}`);

  /** The folded events topic: published ids minus retracted ones (each id once, in any order). */
  function folded(envelopes: readonly EventEnvelope[]) {
    const live = new Map<string, boolean>();
    for (const envelope of envelopes) live.set(envelope.id, !envelope.retracted);
    return [...live].filter(([, on]) => on).map(([id]) => id);
  }

  async function expectTopicEqualsChain(
    ingest: Parameters<typeof committedCount>[0],
    topic: string,
    chain: TestChain,
    deployment: Deployment,
  ) {
    const envelopes = (await readCommittedEnvelopes(kafka, topic, committedCount(ingest))).map(
      (m) => m.envelope,
    );
    expect(folded(envelopes).sort()).toEqual((await idsAbove(chain, deployment, -1)).sort());
    return envelopes;
  }

  /** The chain's current logs as envelopes (the reference the projections must equal). */
  async function chainEnvelopes(chain: TestChain, deployment: Deployment): Promise<EventEnvelope[]> {
    const logs = await chain.logs(deployment);
    const times = new Map<bigint, number>();
    for (const log of logs) {
      if (times.has(log.blockNumber)) continue;
      const block = await chain.client.getBlock({ blockNumber: log.blockNumber });
      times.set(log.blockNumber, Number(block.timestamp));
    }
    return logs.map((log) =>
      decodeLog(log, { chainId: deployment.chainId, blockTimestamp: times.get(log.blockNumber)! }),
    );
  }

  test("behavior: node restarted from an older state, deeper than the window, below the checkpoint: the forgotten events are retracted from ingest's log, and the projections equal the chain", async () => {
    let { anvil, chain, deployment } = await freshChain();
    const world = await createProjectorWorld("rollback");
    // A window of 4 blocks: the orphaned blocks reach below it.
    const options = testIngestOptions(deployment, { rpcUrl: anvil.rpcUrl, reorgWindow: 4, maxBlockRange: 1 });
    const { ingest, topics } = await startTestIngest(options);
    const projector = createProjector(
      createCommon(
        "projector-test",
        { ...world.options, topicPrefix: options.kafka.topicPrefix },
        { logger: createSilentLogger() },
      ),
    );
    try {
      await waitForChainHead(ingest, chain);
      const state = join(dir, "older.json");
      await anvil.dumpState(state);
      const saved = await chain.head();
      await mineActivity(chain, deployment, 8);
      await waitForChainHead(ingest, chain);
      const forgotten = await idsAbove(chain, deployment, saved);
      expect(forgotten.length).toBeGreaterThan(0);

      // The node comes back at the older state: its head is below ingest's checkpoint.
      await anvil.stop();
      anvil = await startPrivateAnvil({ port: anvil.port, loadStateFile: state });
      expect(await chain.head()).toBe(saved);
      // Retracted while the node is still below the checkpoint (a repair may retract more and republish it).
      await expect
        .poll(
          async () => {
            const retracted = new Set(
              (await readCommittedEnvelopes(kafka, topics.events))
                .filter(({ envelope }) => envelope.retracted)
                .map(({ envelope }) => envelope.id),
            );
            return forgotten.filter((id) => !retracted.has(id));
          },
          { timeout: 30_000, interval: 250 },
        )
        .toEqual([]);

      // New, different blocks at the same heights and beyond.
      await mineActivity(chain, deployment, 10);
      await waitForChainHead(ingest, chain);
      await expectTopicEqualsChain(ingest, topics.events, chain, deployment);

      await projector.start();
      await projector.waitForCatchUp({ timeoutMs: 30_000 });
      const dump = await world.dump();
      const expected = referenceFold(await chainEnvelopes(chain, deployment));
      const { events, dead_letters: _, ...tables } = dump;
      const { events: expectedEvents, dead_letters: __, ...expectedTables } = expected;
      expect(tables).toEqual(expectedTables);
      expect(events.filter((row) => !row.retracted)).toEqual(expectedEvents);
    } finally {
      await projector.stop();
      await ingest.stop();
      await anvil.stop();
      await world.cleanup();
    }
  });

  test("behavior: ingest and the node both restarted, the node from an older state: the forgotten events are retracted", async () => {
    let { anvil, chain, deployment } = await freshChain();
    const options = testIngestOptions(deployment, { rpcUrl: anvil.rpcUrl });
    const first = await startTestIngest(options);
    let second: Awaited<ReturnType<typeof startTestIngest>> | undefined;
    try {
      await waitForChainHead(first.ingest, chain);
      const state = join(dir, "older-2.json");
      await anvil.dumpState(state);
      const saved = await chain.head();
      await mineActivity(chain, deployment, 3);
      await waitForChainHead(first.ingest, chain);
      const forgotten = await idsAbove(chain, deployment, saved);
      expect(forgotten.length).toBeGreaterThan(0);
      await first.ingest.stop();

      // kill -9 of everything: the node lost its last blocks, ingest resumes from its checkpoint.
      await anvil.stop();
      anvil = await startPrivateAnvil({ port: anvil.port, loadStateFile: state });
      await mineActivity(chain, deployment, 5);
      second = await startTestIngest(options);
      await waitForChainHead(second.ingest, chain);
      const envelopes = await expectTopicEqualsChain(second.ingest, second.topics.events, chain, deployment);
      const retracted = new Set(envelopes.filter((e) => e.retracted).map((e) => e.id));
      expect(forgotten.filter((id) => !retracted.has(id))).toEqual([]);
    } finally {
      await second?.ingest.stop();
      await first.ingest.stop();
      await anvil.stop();
    }
  });
});
