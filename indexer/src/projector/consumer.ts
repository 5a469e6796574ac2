import { type Logger, sleep, withRetry } from "@carechain/common";
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Pool } from "../database/pool.ts";
import { type ApplyContext, applyBatch, type BatchResult } from "./apply.ts";
import type { LagTracker } from "./lag.ts";
import type { ProjectorMetrics } from "./metrics.ts";
import { readOffsets } from "./offsets.ts";

export type ConsumerSettings = {
  kafka: Kafka;
  pool: Pool;
  topic: string;
  groupId: string;
  apply: Omit<ApplyContext, "beforeCommit">;
  /** Test hook: after a batch's writes, before its COMMIT; `batch` counts from 1. */
  beforeCommit?: (batch: number) => void | Promise<void>;
  logger: Logger;
  metrics: ProjectorMetrics;
  lag: LagTracker;
  fetchMaxBytesPerPartition?: number;
  /** Group session (default 6 s, the broker's minimum): how long a member killed without leaving is waited for. */
  sessionTimeoutMs?: number;
  signal: AbortSignal;
  onBatch?: (info: { partition: number; result: BatchResult; batch: number }) => void | Promise<void>;
};

export type RunningConsumer = {
  stop: () => Promise<void>;
  /** False after kafkajs gave up (a crash without restart). */
  healthy: () => boolean;
};

/**
 * A kafkajs consumer group member that applies each partition batch in one PostgreSQL transaction.
 * Reads only committed messages (the ingest publishes in Kafka transactions). Positions come from the
 * offsets stored in PostgreSQL, not from Kafka's group offsets: on every assignment (start, rebalance) the
 * assigned partitions are paused, their stored offsets read, the consumer seeks there, then resumes. Kafka's
 * group offsets are committed too, after PostgreSQL, but only for operators' tools.
 */
export async function startConsumer(settings: ConsumerSettings): Promise<RunningConsumer> {
  const { kafka, topic, logger } = settings;
  const admin = kafka.admin();
  await admin.connect();
  await waitForTopic(admin, topic, logger, settings.signal);

  // kafkajs has no static membership: a member killed without leaving the group (kill -9) holds its
  // partitions until its session expires, and a restarted process waits for that in its first rebalance.
  // A short session bounds the wait; heartbeats at a third of it (also sent while a batch is applied, see
  // eachBatch) keep a live member in the group.
  const sessionTimeout = settings.sessionTimeoutMs ?? 6_000;
  const heartbeatInterval = Math.max(500, Math.floor(sessionTimeout / 3));
  const consumer: Consumer = kafka.consumer({
    groupId: settings.groupId,
    readUncommitted: false,
    allowAutoTopicCreation: false,
    sessionTimeout,
    heartbeatInterval,
    maxBytesPerPartition: settings.fetchMaxBytesPerPartition ?? 4_194_304,
    maxBytes: 16_777_216,
    // A fetch returns as soon as data arrives; the wait only bounds idle polls, and so how long stop() waits.
    maxWaitTimeInMs: 500,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
  let healthy = true;
  let batches = 0;
  let lastBlock = 0;
  let positioning: Promise<void> = Promise.resolve();

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const partitions = payload.memberAssignment[topic] ?? [];
    settings.lag.retain(partitions); // partitions moved to another member are not ours to call stalled
    if (partitions.length === 0) return;
    // Synchronously, before kafkajs's first fetch: nothing is read from Kafka's idea of the position.
    consumer.pause([{ topic, partitions }]);
    positioning = withRetry(() => seekToStored(partitions), {
      retries: Number.POSITIVE_INFINITY,
      signal: settings.signal,
      onRetry: ({ error }) => logger.warn({ err: error }, "reading stored offsets failed; retrying"),
    })
      .then(() => consumer.resume([{ topic, partitions }]))
      .catch((error) => logger.error({ err: error }, "positioning at stored offsets failed"));
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    // Batches of transaction markers (or aborted messages) only never reach eachBatch but move the
    // position; accepted only when they start exactly at the current position, so that nothing is skipped.
    const first = payload.firstOffset === null ? undefined : BigInt(payload.firstOffset);
    if (
      payload.batchSize === 0 &&
      first !== undefined &&
      first === settings.lag.position(payload.partition)
    ) {
      settings.lag.setPosition(payload.partition, BigInt(payload.lastOffset) + 1n);
    }
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    logger.error({ err: payload.error, restart: payload.restart }, "consumer crashed");
    if (!payload.restart) healthy = false;
  });

  async function seekToStored(partitions: number[]): Promise<void> {
    const stored = await readOffsets(settings.pool, settings.apply.schema, topic);
    const lows = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
    for (const partition of partitions) {
      const next = stored.get(partition) ?? lows.get(partition) ?? 0n;
      consumer.seek({ topic, partition, offset: next.toString() });
      settings.lag.resetPosition(partition, next);
    }
    logger.info(
      { partitions, groupId: settings.groupId },
      "assigned partitions positioned at stored offsets",
    );
  }

  async function eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload) {
    await positioning;
    if (!isRunning() || isStale()) return;
    const started = performance.now();
    const nextOffset = BigInt(batch.lastOffset()) + 1n;
    const batchNumber = ++batches;
    // A long batch (a big catch-up, or isolating a poison message) must not outlast the short session.
    const beating = setInterval(() => void heartbeat().catch(() => {}), heartbeatInterval);
    const client = await settings.pool.connect().catch((error) => {
      clearInterval(beating);
      throw error;
    });
    let result: BatchResult;
    let failure: Error | undefined;
    try {
      result = await applyBatch(
        client,
        { ...settings.apply, beforeCommit: () => settings.beforeCommit?.(batchNumber) },
        {
          topic,
          partition: batch.partition,
          messages: batch.messages.map((m) => ({
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
          })),
          nextOffset,
        },
      );
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw error;
    } finally {
      clearInterval(beating);
      client.release(failure); // a client that failed mid-transaction is discarded, not reused
    }
    resolveOffset(batch.lastOffset());
    settings.lag.setHigh(batch.partition, BigInt(batch.highWatermark));
    settings.lag.setPosition(batch.partition, nextOffset);
    record(settings.metrics, result, (performance.now() - started) / 1000);
    if (result.lastBlock !== null && result.lastBlock > lastBlock) {
      lastBlock = result.lastBlock;
      settings.metrics.lastBlock.set(lastBlock);
    }
    if (result.deadLetters > 0) {
      logger.warn(
        { partition: batch.partition, count: result.deadLetters },
        "messages stored as dead letters",
      );
    }
    await settings.onBatch?.({ partition: batch.partition, result, batch: batchNumber });
    await heartbeat();
  }

  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    autoCommitInterval: 5_000,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch,
  });

  return {
    healthy: () => healthy,
    stop: async () => {
      await consumer.disconnect();
      await admin.disconnect();
    },
  };
}

function record(metrics: ProjectorMetrics, result: BatchResult, seconds: number): void {
  metrics.batchSeconds.observe(seconds);
  metrics.applied.inc(result.applied + result.retracted);
  metrics.duplicates.inc(result.duplicates + result.skipped);
  if (result.deadLetters > 0) metrics.deadLetters.inc(result.deadLetters);
}

/** The events topic is created by ingest (or a test); wait for it rather than auto-creating it wrongly. */
async function waitForTopic(
  admin: ReturnType<Kafka["admin"]>,
  topic: string,
  logger: Logger,
  signal: AbortSignal,
) {
  for (let attempt = 0; !signal.aborted; attempt++) {
    if ((await admin.listTopics()).includes(topic)) return;
    if (attempt === 0) logger.info({ topic }, "waiting for the events topic to exist");
    await sleep(1_000, signal);
  }
}
