import { deserializeEnvelope, type EventEnvelope } from "@carechain/common";
import type { Admin, Kafka } from "kafkajs";
import { readToEnd } from "../kafka/read-to-end.ts";
import type { BlockRef } from "./block-window.ts";

/**
 * The committed tail of ingest's own log (the events topic), folded: the latest state of each event id.
 * It is what ingest published, whatever the node still knows: the events of blocks a restarted or restored
 * node forgot are taken from here to be retracted.
 *
 * Why a tail is enough: ingest publishes in runs of ascending blocks, and each run after the first starts
 * just above the ancestor of a repair that retracted everything published above it (in the same
 * partition, since a retraction has its event's key). So once a partition's tail holds a publication at or
 * below height `h`, every event it published above `h` before that is retracted in the tail as well.
 */
export class PublishedTail {
  constructor(
    private readonly latest: ReadonlyMap<string, EventEnvelope>,
    /** Per partition read: the lowest block of a publication in the tail; -Infinity when read from its start. */
    private readonly floors: readonly number[],
  ) {}

  /** Every partition was read from its first offset. */
  get whole(): boolean {
    return this.floors.every((floor) => floor === Number.NEGATIVE_INFINITY);
  }

  /** Whether liveAbove(height) holds every event published above `height` that is not retracted. */
  covers(height: number): boolean {
    return this.floors.every((floor) => floor <= height);
  }

  /** The events of blocks above `height` that are published and not retracted, in chain order. */
  liveAbove(height: number): EventEnvelope[] {
    return [...this.latest.values()]
      .filter((envelope) => !envelope.retracted && envelope.blockNumber > height)
      .sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  /** The blocks of the live events above `height`, newest first. */
  blocksAbove(height: number): BlockRef[] {
    const blocks = new Map<string, BlockRef>();
    for (const envelope of this.liveAbove(height))
      blocks.set(envelope.blockHash, { number: envelope.blockNumber, hash: envelope.blockHash });
    return [...blocks.values()].sort((a, b) => b.number - a.number);
  }
}

/** Reads the last `back` committed messages of each partition of `topic` (events of `chainId` only). */
export async function readPublishedTail(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  chainId: number,
  back: bigint,
): Promise<PublishedTail> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const from: Record<number, bigint> = {};
  const floors = new Map<number, number>();
  for (const { partition, high, low } of offsets) {
    const start = BigInt(high) - back > BigInt(low) ? BigInt(high) - back : BigInt(low);
    from[partition] = start;
    floors.set(partition, start === BigInt(low) ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
  }
  const latest = new Map<string, EventEnvelope>();
  await readToEnd(
    kafka,
    admin,
    topic,
    (message, partition) => {
      const envelope = deserializeEnvelope(message.value);
      if (envelope.chainId !== chainId) return;
      latest.set(envelope.id, envelope);
      if (!envelope.retracted) floors.set(partition, Math.min(floors.get(partition)!, envelope.blockNumber));
    },
    { from },
  );
  return new PublishedTail(latest, [...floors.values()]);
}

/**
 * Reads ever longer tails (x16 each time) until `enough` says the tail suffices or the whole topic is read.
 * A repair usually concerns the last few blocks: the first tail is then the answer.
 */
export async function readPublishedUntil(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  chainId: number,
  enough: (tail: PublishedTail) => Promise<boolean> | boolean,
): Promise<PublishedTail> {
  for (let back = 4_096n; ; back *= 16n) {
    const tail = await readPublishedTail(kafka, admin, topic, chainId, back);
    if ((await enough(tail)) || tail.whole) return tail;
  }
}
