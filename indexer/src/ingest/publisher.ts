import { type EventEnvelope, type Logger, NonRetryableError, sleep } from "@carechain/common";
import {
  type Admin,
  type Kafka,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type TopicMessages,
} from "kafkajs";
import { PublishFailedError } from "../errors.ts";
import { envelopeMessage, partitionOfKey } from "../kafka/messages.ts";
import type { TopicNames } from "../kafka/topics.ts";
import { type Checkpoint, checkpointMessage } from "./checkpoint.ts";

export type PublishBatch = {
  /** Envelopes in publication order (retractions newest first, then canonical events in chain order). */
  events: readonly EventEnvelope[];
  deadLetters: readonly Message[];
  checkpoint: Checkpoint;
};

export type PublisherOptions = {
  kafka: Kafka;
  /** Connected, owned by the caller: reads the events topic's read_committed end after each commit. */
  admin: Admin;
  topics: TopicNames;
  /** Stable across restarts: a new producer with the same id fences the old one and ends its transaction. */
  transactionalId: string;
  logger: Logger;
  /** Partitions of the events topic: requests are filled per partition. */
  eventPartitions: number;
  /** Bytes per partition and request: keeps each record batch under the broker's 1 MB. */
  maxRequestBytes?: number;
  /** Test only: pause inside each transaction, after the events and before the checkpoint and commit. */
  delayInTransactionMs?: number;
  /** How long publish waits for a committed transaction to become readable before it warns and goes on. */
  visibleWithinMs?: number;
};

/**
 * Publishes each batch of envelopes, dead letters and the checkpoint covering them in ONE Kafka transaction:
 * a read_committed consumer sees all of it or none of it, and a restart resumes from the checkpoint, so the
 * committed log holds every event exactly once whatever the moment of a crash.
 */
export class Publisher {
  private producer: Producer | undefined;
  private isConnected = false;

  constructor(private readonly options: PublisherOptions) {}

  get connected(): boolean {
    return this.isConnected;
  }

  async connect(): Promise<void> {
    const producer = this.options.kafka.producer({
      transactionalId: this.options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as the Java client: same key, same partition
    });
    producer.on(producer.events.CONNECT, () => {
      this.isConnected = true;
    });
    producer.on(producer.events.DISCONNECT, () => {
      this.isConnected = false;
    });
    await producer.connect(); // InitProducerId: fences a previous instance and settles its open transaction
    this.producer = producer;
    this.isConnected = true;
  }

  async disconnect(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    this.isConnected = false;
    await producer?.disconnect();
  }

  async publish(batch: PublishBatch): Promise<void> {
    if (!this.producer) throw new PublishFailedError("The Kafka producer is not connected.");
    const { topics, maxRequestBytes = 900_000 } = this.options;
    const messages = batch.events.map(envelopeMessage);
    const transaction = await this.producer.transaction();
    // Per partition of the events topic, the offset of this transaction's last event.
    const lastOffsets = new Map<number, bigint>();
    try {
      // Events first, in requests of up to ~900 KB per partition; then the dead letters and the checkpoint
      // in one request; then commit.
      for (const chunk of requestsOf(messages, this.options.eventPartitions, maxRequestBytes)) {
        const written = await transaction.send({ topic: topics.events, acks: -1, messages: chunk });
        noteLastOffsets(lastOffsets, chunk, written);
      }
      if (this.options.delayInTransactionMs) {
        this.options.logger.debug(
          { events: messages.length, block: batch.checkpoint.block.number },
          "transaction open",
        );
        await sleep(this.options.delayInTransactionMs);
      }
      const closing: TopicMessages[] = [
        { topic: topics.deadLetter, messages: [...batch.deadLetters] },
        { topic: topics.checkpoints, messages: [checkpointMessage(batch.checkpoint)] },
      ];
      await transaction.sendBatch({
        acks: -1,
        topicMessages: closing.filter((entry) => entry.messages.length > 0),
      });
      await transaction.commit();
    } catch (error) {
      await transaction.abort().catch(() => undefined);
      throw toPublishError(error);
    }
    await this.waitUntilReadable(lastOffsets);
  }

  /**
   * A commit returns once the coordinator has logged it; the markers that make the events readable reach
   * each partition a moment later. Waiting for them means that once publish returns, a read_committed
   * reader sees the events: ingest's "indexed block" then says they are readable, and the next transaction
   * does not meet the coordinator still finishing this one. The commit is durable either way, so a slow
   * broker costs a warning, not the range.
   */
  private async waitUntilReadable(lastOffsets: ReadonlyMap<number, bigint>): Promise<void> {
    if (lastOffsets.size === 0) return;
    const { admin, topics, visibleWithinMs = 5_000, logger } = this.options;
    const deadline = Date.now() + visibleWithinMs;
    for (let pause = 1; ; pause = Math.min(pause * 2, 100)) {
      const ends = await admin.fetchTopicOffsets(topics.events).catch(() => []);
      const readable = [...lastOffsets].every(([partition, last]) => {
        const end = ends.find((entry) => entry.partition === partition);
        return end !== undefined && BigInt(end.high) > last;
      });
      if (readable) return;
      if (Date.now() > deadline) {
        logger.warn(
          { topic: topics.events, waitedMs: visibleWithinMs },
          "a committed transaction is not readable yet; going on",
        );
        return;
      }
      await sleep(pause);
    }
  }
}

/** Records, per partition, the offset of the last message of `chunk` that the broker wrote. */
function noteLastOffsets(
  into: Map<number, bigint>,
  chunk: readonly Message[],
  written: readonly RecordMetadata[],
): void {
  const counts = new Map<number, number>();
  for (const message of chunk) counts.set(message.partition!, (counts.get(message.partition!) ?? 0) + 1);
  for (const { partition, baseOffset } of written) {
    const count = counts.get(partition);
    if (count === undefined || baseOffset === undefined) continue;
    into.set(partition, BigInt(baseOffset) + BigInt(count - 1));
  }
}

/**
 * Requests of at most `maxBytes` per partition: each partition's record batch stays under the broker's
 * 1 MB limit while a request carries up to that much for every partition. Order within a partition is kept.
 */
function* requestsOf(
  messages: readonly Message[],
  partitions: number,
  maxBytes: number,
): Generator<Message[]> {
  const queues: Message[][] = Array.from({ length: partitions }, () => []);
  for (const message of messages) {
    // A chain clock names its partition; events go where their key does.
    const partition = message.partition ?? partitionOfKey(String(message.key), partitions);
    queues[partition]!.push({ ...message, partition });
  }
  const cursors = queues.map(() => 0);
  for (;;) {
    const request: Message[] = [];
    queues.forEach((queue, partition) => {
      let bytes = 0;
      let at = cursors[partition]!;
      for (; at < queue.length; at++) {
        const size = (queue[at]!.value as Buffer).length + 128; // key, headers and record overhead
        if (bytes > 0 && bytes + size > maxBytes) break;
        bytes += size;
        request.push(queue[at]!);
      }
      cursors[partition] = at;
    });
    if (request.length === 0) return;
    yield request;
  }
}

function toPublishError(error: unknown): Error {
  const { type, code } = (error ?? {}) as { type?: string; code?: number };
  const details = error instanceof Error ? error.message.split("\n")[0] : String(error);
  if (type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE" || type === "INVALID_RECORD") {
    return new NonRetryableError("Kafka rejected the messages themselves.", { details, cause: error });
  }
  if (type === "INVALID_PRODUCER_EPOCH" || type === "PRODUCER_FENCED" || code === 90) {
    return new NonRetryableError("Another ingest took over this transactional id.", {
      details,
      cause: error,
    });
  }
  return new PublishFailedError("Kafka transaction failed.", { details, cause: error });
}
