import { createCommon, createSilentLogger, type EventEnvelope, partitionKeyOf } from "@carechain/common";
import {
  consentManagerAbi,
  type Deployment,
  identityRegistryAbi,
  vitalsMonitorAbi,
} from "@carechain/contracts";
import { encodeFunctionData, keccak256, type PrivateKeyAccount, toHex } from "viem";
import { describe, expect, test } from "vitest";
import { ident } from "../database/pool.ts";
import { startPrivateAnvil } from "../ingest/testing/anvil.ts";
import { TestChain } from "../ingest/testing/chain.ts";
import { startTestIngest, testIngestOptions, testKafka, waitForChainHead } from "../ingest/testing/ingest.ts";
import { readCommittedEnvelopes } from "../ingest/testing/kafka.ts";
import { rebuild } from "./rebuild.ts";
import { createProjector } from "./service.ts";
import { createProjectorWorld, type ProjectorWorld } from "./testing/harness.ts";

/**
 * The chain clock end to end, on a private anvil (time travel and reverts would disturb the shared one):
 * chain -> ingest (a ChainClock per partition after each range) -> Kafka -> projector -> event_feed.
 */
describe("chain clock", () => {
  type FeedRow = { event_id: string; type: string; retracted: boolean; envelope: EventEnvelope };

  async function feedOf(world: ProjectorWorld, schema: string): Promise<FeedRow[]> {
    const { rows } = await world.pool.query<FeedRow>(
      `SELECT event_id, type, retracted, envelope FROM ${ident(schema)}.event_feed ORDER BY seq`,
    );
    return rows;
  }

  async function actors(chain: TestChain, deployment: Deployment) {
    const [patient, device, doctor] = await Promise.all([
      chain.fundedAccount(),
      chain.fundedAccount(),
      chain.fundedAccount(),
    ]);
    await chain.registerPatientWithDevice(deployment, patient, device);
    await chain.sendAll(doctor, [
      {
        to: deployment.contracts.IdentityRegistry.address,
        data: encodeFunctionData({
          abi: identityRegistryAbi,
          functionName: "registerDoctor",
          args: [keccak256(doctor.address), keccak256(toHex(`key:${doctor.address}`)), keccak256("0x01")],
        }),
      },
    ]);
    return { patient, device, doctor };
  }

  const call = (chain: TestChain, account: PrivateKeyAccount, to: `0x${string}`, data: `0x${string}`) =>
    chain.sendAll(account, [{ to, data }]);

  test("default: a grant's expiry is announced once, by the first block past it; a reorg that drops that block takes it back and the new chain makes it again; an alert turns final FINALITY_DEPTH blocks later; a rebuild from Kafka derives the same feed", async () => {
    const anvil = await startPrivateAnvil();
    const chain = new TestChain(anvil.rpcUrl);
    const deployment = await chain.deploy();
    const world = await createProjectorWorld("clock");
    const options = testIngestOptions(deployment, { rpcUrl: anvil.rpcUrl });
    const { ingest, topics } = await startTestIngest(options);
    const projectorOptions = { ...world.options, topicPrefix: options.kafka.topicPrefix, finalityDepth: 3 };
    const projector = createProjector(
      createCommon("projector-test", projectorOptions, { logger: createSilentLogger() }),
      { generationPollMs: 200 },
    );
    const schema = `${world.options.schemaBase}_p1`;
    const caughtUp = async () => {
      await waitForChainHead(ingest, chain);
      await projector.waitForCatchUp({ timeoutMs: 30_000 });
    };
    const ofType = async (type: string) => (await feedOf(world, schema)).filter((row) => row.type === type);
    try {
      const { patient, device, doctor } = await actors(chain, deployment);
      const { ConsentManager, VitalsMonitor } = deployment.contracts;
      const now = Number((await chain.client.getBlock()).timestamp);
      const expiresAt = now + 600;
      await call(
        chain,
        patient,
        ConsentManager.address,
        encodeFunctionData({
          abi: consentManagerAbi,
          functionName: "grantAccess",
          args: [doctor.address, 1, BigInt(expiresAt)],
        }),
      );
      await call(
        chain,
        patient,
        VitalsMonitor.address,
        encodeFunctionData({
          abi: vitalsMonitorAbi,
          functionName: "setVitalsRange",
          args: [patient.address, 90, 140, 60, 90],
        }),
      );
      await call(
        chain,
        device,
        VitalsMonitor.address,
        encodeFunctionData({
          abi: vitalsMonitorAbi,
          functionName: "submitReading",
          args: [BigInt(now - 10), 190, 100],
        }),
      );
      await projector.start();
      await caughtUp();

      // The alert, at the head (0 confirmations): provisional, then final once 3 blocks are on top of it.
      const [raised] = await ofType("VitalsAlert");
      expect(raised!.envelope.final).toBe(false);
      expect(await ofType("AlertFinal")).toEqual([]);
      await chain.rpc("anvil_mine", ["0x2"]);
      await caughtUp();
      expect(await ofType("AlertFinal")).toEqual([]);
      await chain.rpc("anvil_mine", ["0x1"]);
      await caughtUp();
      const finals = await ofType("AlertFinal");
      expect(finals.map((row) => row.envelope.payload)).toMatchObject([{ alertId: raised!.event_id }]);
      expect(finals[0]!.envelope.blockNumber).toBe(raised!.envelope.blockNumber + 3);

      // No expiry yet; then one block past it: announced once, by that block.
      expect(await ofType("GrantExpired")).toEqual([]);
      const snapshot = await chain.rpc<string>("evm_snapshot");
      await chain.rpc("evm_increaseTime", [700]);
      await chain.rpc("evm_mine");
      const passed = await chain.client.getBlock({ blockTag: "latest" });
      await caughtUp();
      await chain.rpc("evm_mine"); // a later block announces nothing more
      await caughtUp();
      const expired = await ofType("GrantExpired");
      expect(expired.map((row) => [row.envelope.blockHash, row.envelope.payload, row.retracted])).toEqual([
        [
          passed.hash,
          {
            patient: patient.address.toLowerCase(),
            grantee: doctor.address.toLowerCase(),
            expiresAt: String(expiresAt),
          },
          false,
        ],
      ]);

      // A reorg drops that block: the announcement is retracted, and the new chain's block makes it again.
      expect(await chain.rpc("evm_revert", [snapshot])).toBe(true);
      await chain.rpc("evm_increaseTime", [900]);
      await chain.rpc("anvil_mine", ["0x3"]);
      await caughtUp();
      const after = await ofType("GrantExpired");
      expect(after.map((row) => [row.event_id, row.retracted])).toEqual([
        [expired[0]!.event_id, false],
        [expired[0]!.event_id, true],
        [expect.not.stringMatching(expired[0]!.event_id), false],
      ]);
      const canonical = await chain.client.getBlock({ blockNumber: BigInt(after[2]!.envelope.blockNumber) });
      expect(after[2]!.envelope.blockHash).toBe(canonical.hash);
      expect(after[2]!.envelope.blockTimestamp).toBeGreaterThanOrEqual(expiresAt);
      // The alert, below the reorg, stays final.
      expect((await ofType("AlertFinal")).map((row) => row.retracted)).toEqual([false]);

      // Ingest's side: each range ends with one clock per partition, the head's among them.
      const head = await chain.client.getBlock({ blockTag: "latest" });
      const clocks = (await readCommittedEnvelopes(testKafka(), topics.events, 0, { clocks: true })).filter(
        ({ envelope }) => envelope.type === "ChainClock" && envelope.blockHash === head.hash,
      );
      expect(clocks.map(({ message }) => message.partition).sort()).toEqual([0, 1, 2]);

      // A rebuild replays the topic: the same feed, entry for entry, in the same order per patient (the
      // partitions interleave as they come). An announcement and its retraction may fall in one batch of
      // the replay, which then delivers neither, as for any event: compared without them.
      const result = await rebuild(
        createCommon("rebuild-test", projectorOptions, { logger: createSilentLogger() }),
      );
      const perPatient = (rows: FeedRow[]) => {
        const retracted = new Set(rows.filter((row) => row.retracted).map((row) => row.event_id));
        const out: Record<string, [string, EventEnvelope][]> = {};
        for (const row of rows.filter((row) => !retracted.has(row.event_id))) {
          const key = partitionKeyOf(row.envelope);
          out[key] = [...(out[key] ?? []), [row.event_id, row.envelope]];
        }
        return out;
      };
      const rebuilt = perPatient(await feedOf(world, result.generation.schema));
      expect(rebuilt).toEqual(perPatient(await feedOf(world, schema)));
      expect(rebuilt[patient.address.toLowerCase()]!.map(([, envelope]) => envelope.type)).toEqual([
        "PatientRegistered",
        "DeviceAuthorized",
        "AccessGranted",
        "VitalsRangeSet",
        "VitalsReported",
        "VitalsAlert",
        "AlertFinal",
        "GrantExpired",
      ]);
    } finally {
      await projector.stop();
      await ingest.stop();
      await anvil.stop();
      await world.cleanup();
    }
  }, 180_000);
});
