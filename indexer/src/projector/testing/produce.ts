import type { Admin, Message, RecordMetadata, Transaction } from "kafkajs";

/**
 * Sends messages in one Kafka transaction and waits until they are readable by read_committed consumers.
 * `commit()` returns before the broker has written the commit markers, and until then the last stable offset
 * (what admin.fetchTopicOffsets reports, and what a projector can catch up to) stays below the messages.
 */
export async function sendCommitted(
  transaction: Transaction,
  admin: Admin,
  topic: string,
  messages: Message[],
): Promise<void> {
  const sent: RecordMetadata[] = await transaction.send({ topic, messages });
  await transaction.commit();
  const firstOffsets = new Map<number, bigint>();
  for (const { partition, baseOffset } of sent) {
    if (baseOffset === undefined) continue;
    const offset = BigInt(baseOffset);
    if (!firstOffsets.has(partition) || offset < firstOffsets.get(partition)!)
      firstOffsets.set(partition, offset);
  }
  for (;;) {
    const stable = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    if ([...firstOffsets].every(([partition, first]) => (stable.get(partition) ?? 0n) > first)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
