import type { Kafka } from "kafkajs";

/**
 * How many messages `topic` holds when read_uncommitted (aborted and open transactions included): proof that
 * a killed transaction had written. Reads until no batch came for `idleMs`.
 */
export async function readToEndUncommitted(kafka: Kafka, topic: string, idleMs = 2_000): Promise<number> {
  const consumer = kafka.consumer({
    groupId: `uncommitted-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: true,
    maxWaitTimeInMs: 100,
  });
  let count = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      let timer = setTimeout(resolve, idleMs * 5);
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            count += batch.messages.length;
            clearTimeout(timer);
            timer = setTimeout(resolve, idleMs);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return count;
}
