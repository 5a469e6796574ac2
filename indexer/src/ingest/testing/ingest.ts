import { createCommon, createSilentLogger, eventId, type Logger } from "@carechain/common";
import { type Deployment, watchedContracts } from "@carechain/contracts";
import { createKafka, getStack, uniqueTopic } from "@carechain/stack/testing";
import type { Kafka } from "kafkajs";
import { topicNames } from "../../kafka/topics.ts";
import { defaultIngestOptions, type IngestOptions } from "../config.ts";
import { createIngest, type Ingest } from "../service.ts";
import type { TestChain } from "./chain.ts";
import { readCommittedEnvelopes } from "./kafka.ts";

/** Options for an in-process ingest of `deployment` into topics of a fresh prefix. */
export function testIngestOptions(
  deployment: Deployment,
  overrides: Partial<IngestOptions> & { rpcUrl?: string } = {},
): IngestOptions {
  const stack = getStack();
  return {
    ...defaultIngestOptions({
      rpcUrl: overrides.rpcUrl ?? stack.rpcUrl,
      contracts: watchedContracts(deployment),
      kafka: { brokers: stack.kafkaBrokers, topicPrefix: uniqueTopic("ingest") },
    }),
    pollIntervalMs: 100,
    ...overrides,
  };
}

export async function startTestIngest(options: IngestOptions, logger: Logger = createSilentLogger()) {
  const common = createCommon("ingest", options, { logger });
  const ingest = createIngest(common);
  await ingest.start();
  return { ingest, common, topics: topicNames(options.kafka.topicPrefix) };
}

/**
 * The number of messages ingest has committed to the events topic so far (readable once published, see
 * Publisher.waitUntilReadable); readers still poll, as a fresh consumer may take a moment to fetch them.
 */
export function committedCount(ingest: Ingest): number {
  return ingest.status().events;
}

/** Resolves once ingest has indexed `block` (rejects if it fails or `timeoutMs` passes). */
export async function waitForBlock(ingest: Ingest, block: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let failed: unknown;
  ingest.done.catch((error: unknown) => {
    failed = error;
  });
  while ((ingest.status().indexedBlock ?? -1) < block) {
    if (failed) throw failed;
    if (Date.now() > deadline) {
      throw new Error(`ingest reached block ${ingest.status().indexedBlock} of ${block} in ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once ingest has indexed the chain's current head block (same number AND hash). */
export async function waitForChainHead(ingest: Ingest, chain: TestChain, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const head = await chain.client.getBlock({ blockTag: "latest" });
    await waitForBlock(ingest, Number(head.number), Math.max(1, deadline - Date.now()));
    const { indexedBlock, indexedHash } = ingest.status();
    if (indexedBlock === Number(head.number) && indexedHash === head.hash) return;
    if (Date.now() > deadline)
      throw new Error(`ingest did not reach the head ${head.number} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function testKafka(): Kafka {
  return createKafka("ingest-test");
}

/**
 * Compares the committed events topic with the chain's logs: same ids, each once, each patient's (key's)
 * events in chain order. Returns the figures for extra assertions.
 */
export async function compareWithChain(
  kafka: Kafka,
  topic: string,
  chain: TestChain,
  deployment: Deployment,
  expectedMessages = 0,
) {
  const logs = await chain.logs(deployment);
  const chainIds = logs.map((log) => eventId(deployment.chainId, log.blockHash, log.logIndex));
  const committed = await readCommittedEnvelopes(kafka, topic, expectedMessages);
  const live = committed.filter(({ envelope }) => !envelope.retracted);
  const committedIds = live.map(({ envelope }) => envelope.id);
  const committedSet = new Set(committedIds);
  // Per key (patient): the committed order must be the chain order restricted to that key.
  const chainOrder = new Map(chainIds.map((id, index) => [id, index]));
  const byKey = new Map<string, number[]>();
  for (const { envelope, message } of live) {
    const list = byKey.get(message.key ?? "") ?? [];
    list.push(chainOrder.get(envelope.id) ?? -1);
    byKey.set(message.key ?? "", list);
  }
  const outOfOrder = [...byKey.values()].filter((list) =>
    list.some((value, i) => i > 0 && value < list[i - 1]!),
  );
  return {
    chainIds,
    committed,
    committedIds,
    duplicates: committedIds.length - new Set(committedIds).size,
    missing: chainIds.filter((id) => !committedSet.has(id)),
    extra: committedIds.filter((id) => !chainOrder.has(id)),
    keysOutOfOrder: outOfOrder.length,
  };
}
