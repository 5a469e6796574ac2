import type { EventEnvelope } from "@carechain/common";
import type { Deployment } from "@carechain/contracts";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type PrivateAnvil, startPrivateAnvil } from "./testing/anvil.ts";
import { TestChain } from "./testing/chain.ts";
import {
  committedCount,
  compareWithChain,
  startTestIngest,
  testIngestOptions,
  testKafka,
  waitForBlock,
  waitForChainHead,
} from "./testing/ingest.ts";
import { readCommittedEnvelopes } from "./testing/kafka.ts";

// A private anvil: reverting the shared one would rewrite the other tests' chain too.
describe("ingest reorgs", () => {
  let anvil: PrivateAnvil;
  let chain: TestChain;
  let deployment: Deployment;
  const kafka = testKafka();

  beforeAll(async () => {
    anvil = await startPrivateAnvil();
    chain = new TestChain(anvil.rpcUrl);
    deployment = await chain.deploy();
    await chain.generateReadings(deployment, { patients: 2, batches: 2, perBatch: 20 });
  });
  afterAll(async () => {
    await anvil?.stop();
  });

  /** Mines `orphaned` activity after a snapshot, waits for ingest to publish it, then replaces it. */
  async function reorg(
    ingest: Parameters<typeof waitForBlock>[0],
    orphaned: { patients: number; batches: number },
    replacement: { patients: number; batches: number },
  ) {
    const snapshot = await chain.rpc<string>("evm_snapshot");
    const forkPoint = await chain.head();
    await chain.generateReadings(deployment, { ...orphaned, perBatch: 5 });
    await waitForBlock(ingest, await chain.head());
    const orphanedIds = (await chain.logs(deployment))
      .filter((log) => Number(log.blockNumber) > forkPoint)
      .map((log) => `${deployment.chainId}:${log.blockHash}:${log.logIndex}`);
    const orphanedTip = await chain.head();
    expect(await chain.rpc("evm_revert", [snapshot])).toBe(true);
    await chain.generateReadings(deployment, { ...replacement, perBatch: 5 });
    // anvil may pack concurrent transactions into one block: make the new chain longer for sure.
    const missing = orphanedTip + 2 - (await chain.head());
    if (missing > 0) await chain.rpc("anvil_mine", [`0x${missing.toString(16)}`]);
    return orphanedIds;
  }

  function retractionsOf(envelopes: EventEnvelope[]) {
    return envelopes.filter((envelope) => envelope.retracted);
  }

  test("default: a reorg to a longer chain retracts the orphaned events, newest first, then publishes the new ones", async () => {
    const { ingest, topics, common } = await startTestIngest(
      testIngestOptions(deployment, { rpcUrl: anvil.rpcUrl }),
    );
    try {
      await waitForBlock(ingest, await chain.head());
      const orphanedIds = await reorg(ingest, { patients: 1, batches: 1 }, { patients: 1, batches: 3 });
      await waitForChainHead(ingest, chain);

      const committed = (await readCommittedEnvelopes(kafka, topics.events, committedCount(ingest))).map(
        ({ envelope }) => envelope,
      );
      const retracted = retractionsOf(committed);
      expect(retracted.map((e) => e.id).sort()).toEqual([...orphanedIds].sort());
      // Within each partition key, retractions come newest first.
      const byPatient = new Map<string, number[]>();
      for (const e of retracted) {
        const patient = String((e.payload as { patient?: string }).patient);
        byPatient.set(patient, [...(byPatient.get(patient) ?? []), e.blockNumber * 10_000 + e.logIndex]);
      }
      for (const keys of byPatient.values()) expect(keys).toEqual([...keys].sort((a, b) => b - a));
      // What remains after applying the retractions is exactly the chain.
      const result = await compareWithChain(kafka, topics.events, chain, deployment, committedCount(ingest));
      const net = new Set(result.committedIds);
      for (const id of retracted.map((e) => e.id)) net.delete(id);
      expect([...net].sort()).toEqual([...result.chainIds].sort());
      expect(await common.metrics.text()).toMatch(/carechain_ingest_reorgs_total\{[^}]*\} 1/);
    } finally {
      await ingest.stop();
    }
  });

  test("behavior: a reorg to a shorter chain is repaired too, also after a restart", async () => {
    const options = testIngestOptions(deployment, { rpcUrl: anvil.rpcUrl });
    const first = await startTestIngest(options);
    await waitForBlock(first.ingest, await chain.head());
    const snapshot = await chain.rpc<string>("evm_snapshot");
    const forkPoint = await chain.head();
    await chain.generateReadings(deployment, { patients: 1, batches: 2, perBatch: 5 });
    await waitForBlock(first.ingest, await chain.head());
    await first.ingest.stop();
    // The restarted ingest reads the published events of its window again from the chain.
    const second = await startTestIngest(options);
    try {
      const orphanedIds = (await chain.logs(deployment))
        .filter((log) => Number(log.blockNumber) > forkPoint)
        .map((log) => `${deployment.chainId}:${log.blockHash}:${log.logIndex}`);
      expect(await chain.rpc("evm_revert", [snapshot])).toBe(true);
      // One empty block replaces at least two: the head stays below what was published.
      await chain.rpc("anvil_mine", ["0x1"]);
      await expect
        .poll(
          async () =>
            retractionsOf((await readCommittedEnvelopes(kafka, second.topics.events)).map((m) => m.envelope))
              .length,
          {
            timeout: 20_000,
          },
        )
        .toBe(orphanedIds.length);
      await waitForChainHead(second.ingest, chain);
      const result = await compareWithChain(
        kafka,
        second.topics.events,
        chain,
        deployment,
        committedCount(second.ingest),
      );
      const net = new Set(result.committedIds);
      for (const { envelope } of result.committed) if (envelope.retracted) net.delete(envelope.id);
      expect([...net].sort()).toEqual([...result.chainIds].sort());
    } finally {
      await second.ingest.stop();
    }
  });
});
