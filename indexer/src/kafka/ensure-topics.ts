import type { Admin, ITopicConfig } from "kafkajs";
import type { TopicNames } from "./topics.ts";

export type EnsureTopicsOptions = {
  /** Partitions of the events topic: the unit of parallelism of consumers; fixed once created (keys map to partitions). */
  partitions: number;
  /** Default: the number of brokers, at most 3. */
  replicationFactor?: number;
  /** Default: 2 when replicated, else 1 (acks=-1 then waits for that many copies). */
  minInsyncReplicas?: number;
};

/**
 * Creates the pipeline's topics when missing, with settings for a replayable log: events and dead letters
 * are never deleted (the projector can rebuild from offset 0), checkpoints are compacted to the latest per
 * key. Returns the names it created; existing topics are left as they are.
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  options: EnsureTopicsOptions,
): Promise<{ created: string[] }> {
  const brokers = (await admin.describeCluster()).brokers.length;
  const replicationFactor = options.replicationFactor ?? Math.max(1, Math.min(3, brokers));
  const minInsync = String(options.minInsyncReplicas ?? (replicationFactor > 1 ? 2 : 1));
  const keepForever = [
    { name: "cleanup.policy", value: "delete" },
    { name: "retention.ms", value: "-1" },
    { name: "retention.bytes", value: "-1" },
    { name: "min.insync.replicas", value: minInsync },
  ];
  const wanted: ITopicConfig[] = [
    { topic: names.events, numPartitions: options.partitions, replicationFactor, configEntries: keepForever },
    { topic: names.deadLetter, numPartitions: 1, replicationFactor, configEntries: keepForever },
    {
      topic: names.checkpoints,
      numPartitions: 1,
      replicationFactor,
      // Small segments so that compaction (which skips the active segment) keeps the topic short.
      configEntries: [
        { name: "cleanup.policy", value: "compact" },
        { name: "min.insync.replicas", value: minInsync },
        { name: "segment.ms", value: "3600000" },
        { name: "min.cleanable.dirty.ratio", value: "0.1" },
      ],
    },
  ];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((topic) => !existing.has(topic.topic));
  if (missing.length === 0) return { created: [] };
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
  } catch (error) {
    // Another process may have created them in between: fine when they now all exist.
    const now = new Set(await admin.listTopics());
    if (!missing.every((topic) => now.has(topic.topic))) throw error;
  }
  return { created: missing.map((topic) => topic.topic) };
}
