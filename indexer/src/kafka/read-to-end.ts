import { RetryableError } from "@carechain/common";
import type { Admin, Kafka, KafkaMessage } from "kafkajs";

export type ReadToEndOptions = {
  /** First offset per partition; default: the partition's earliest. */
  from?: Record<number, bigint>;
  /** Default: read_committed (aborted transactions and markers skipped). */
  readUncommitted?: boolean;
  /** Rejects when the end is not reached in this time. */
  timeoutMs?: number;
};

/**
 * Reads `topic` from `from` up to its end as of the call (the last stable offset for read_committed, the
 * high watermark otherwise) and returns. For a resume point or a verification, not for tailing: no offsets
 * are committed (a throw-away consumer group).
 */
export async function readToEnd(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  options: ReadToEndOptions = {},
): Promise<void> {
  // Admin ListOffsets is read_committed in kafkajs: `high` is the last stable offset.
  const offsets = await admin.fetchTopicOffsets(topic);
  const ends = new Map<number, bigint>();
  for (const { partition, high, low } of offsets) {
    const start = options.from?.[partition] ?? BigInt(low);
    if (BigInt(high) > start) ends.set(partition, BigInt(high));
  }
  if (ends.size === 0) return;
  const consumer = kafka.consumer({
    groupId: `carechain-read-to-end-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: options.readUncommitted ?? false,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 100,
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const pending = new Set(ends.keys());
      const next = new Map<number, bigint>(
        Object.entries(options.from ?? {}).map(([p, o]) => [Number(p), o]),
      );
      let idle: NodeJS.Timeout | undefined;
      const timeout = setTimeout(
        () => reject(new RetryableError(`Timed out reading ${topic} to its end.`)),
        options.timeoutMs ?? 60_000,
      );
      const finish = () => {
        clearTimeout(idle);
        clearTimeout(timeout);
        resolve();
      };
      const reached = (partition: number, lastOffset: string) => {
        const end = ends.get(partition);
        if (end !== undefined && BigInt(lastOffset) >= end - 1n) pending.delete(partition);
        clearTimeout(idle);
        if (pending.size === 0) finish();
        // Compaction may have removed the records at the end (markers included): a pause ends the read.
        else idle = setTimeout(finish, 5_000);
      };
      // Batches of markers or aborted records only do not reach eachBatch; this event sees every batch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) =>
        reached(payload.partition, payload.lastOffset),
      );
      // kafkajs restarts the consumer itself after a retriable crash (a coordinator still loading).
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (payload.restart) return;
        clearTimeout(timeout);
        reject(payload.error);
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const end = ends.get(batch.partition);
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (end === undefined || offset >= end) break;
              // A consumer restarted after a crash (or a seek) may deliver offsets again: each goes out once.
              if (offset < (next.get(batch.partition) ?? 0n)) continue;
              next.set(batch.partition, offset + 1n);
              onMessage(message, batch.partition);
            }
          },
        })
        .then(() => {
          for (const [partition, offset] of Object.entries(options.from ?? {})) {
            if (!ends.has(Number(partition))) continue;
            try {
              consumer.seek({ topic, partition: Number(partition), offset: offset.toString() });
            } catch {
              // The read ended first (offsets below `from` are skipped anyway): nothing left to seek.
            }
          }
        }, reject);
    });
  } finally {
    await consumer.disconnect();
  }
}
