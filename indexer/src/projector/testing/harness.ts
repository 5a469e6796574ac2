import { type Common, createCommon, createSilentLogger, type EventEnvelope } from "@carechain/common";
import { createKafka, getStack } from "@carechain/stack/testing";
import type { Admin, Kafka, Message } from "kafkajs";
import { createPool, ident, type Pool } from "../../database/pool.ts";
import { getActiveGeneration } from "../../database/schemas.ts";
import { envelopeMessage } from "../../kafka/messages.ts";
import { topicNames } from "../../kafka/topics.ts";
import { type Dump, dumpProjections } from "../dump.ts";
import type { ProjectorOptions } from "../service.ts";
import { sendCommitted } from "./produce.ts";

/**
 * One isolated projector world per test: its own schema base, topic prefix (events topic created with
 * `partitions`) and consumer group, on the stack's real PostgreSQL and Kafka.
 */
export type ProjectorWorld = {
  options: ProjectorOptions;
  topic: string;
  kafka: Kafka;
  pool: Pool;
  common: (service?: string) => Common<ProjectorOptions>;
  /** Sends in Kafka transactions of `perTransaction` messages (one record batch per partition each). */
  produce: (envelopes: readonly EventEnvelope[], perTransaction?: number) => Promise<void>;
  produceRaw: (messages: Message[], perTransaction?: number) => Promise<void>;
  /** Dump of `schema` (default: the active generation's). */
  dump: (schema?: string) => Promise<Dump>;
  /** Commits Kafka group offsets at the END of every partition (as `kafka-consumer-groups --reset-offsets`). */
  resetGroupToEnd: (groupId: string) => Promise<void>;
  cleanup: () => Promise<void>;
};

let counter = 0;

export async function createProjectorWorld(name: string, partitions = 3): Promise<ProjectorWorld> {
  const stack = getStack();
  const unique = `${Date.now().toString(36)}${process.pid.toString(36)}${(counter++).toString(36)}`;
  const base = `t_${name.replace(/[^a-z0-9]/g, "").slice(0, 12)}_${unique}`;
  const topicPrefix = `t-${name}-${unique}`;
  const options: ProjectorOptions = {
    databaseUrl: stack.databaseUrl,
    kafkaBrokers: stack.kafkaBrokers,
    topicPrefix,
    groupId: `${topicPrefix}-projector`,
    schemaBase: base,
    sessionTimeoutMs: 6_000,
  };
  const topic = topicNames(topicPrefix).events;
  const kafka = createKafka(`${topicPrefix}-test`);
  const producerAdmin = kafka.admin();
  await producerAdmin.connect();
  await createTopic(producerAdmin, topic, partitions);
  const producer = kafka.producer({
    transactionalId: `${topicPrefix}-tx`,
    idempotent: true,
    maxInFlightRequests: 1,
  });
  await producer.connect();
  const pool = createPool(stack.databaseUrl, { max: 2 });

  // Like ingest: envelopes keyed by patient, sent in Kafka transactions; returns once they are readable.
  async function produceRaw(messages: Message[], perTransaction = 2_000): Promise<void> {
    for (let i = 0; i < messages.length; i += perTransaction) {
      const transaction = await producer.transaction();
      await sendCommitted(transaction, producerAdmin, topic, messages.slice(i, i + perTransaction));
    }
  }

  return {
    options,
    topic,
    kafka,
    pool,
    common: (service = "projector-test") => createCommon(service, options, { logger: createSilentLogger() }),
    produce: (envelopes, perTransaction) => produceRaw(envelopes.map(envelopeMessage), perTransaction),
    produceRaw,
    dump: async (schema) => dumpProjections(pool, schema ?? (await getActiveGeneration(pool, base))!.schema),
    resetGroupToEnd: async (groupId) => {
      // admin.setOffsets would do, but it waits a whole 5 s fetch; a paused member of the group is faster.
      const admin = kafka.admin();
      await admin.connect();
      const ends = await admin.fetchTopicOffsets(topic);
      await admin.disconnect();
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      await consumer.connect();
      await consumer.subscribe({ topic });
      const joined = new Promise((resolve) =>
        consumer.on(consumer.events.GROUP_JOIN, (event) => {
          consumer.pause([{ topic }]);
          resolve(event);
        }),
      );
      await consumer.run({ autoCommit: false, eachBatch: async () => {} });
      await joined;
      await consumer.commitOffsets(ends.map(({ partition, high }) => ({ topic, partition, offset: high })));
      await consumer.disconnect();
    },
    cleanup: async () => {
      await producer.disconnect();
      await producerAdmin.disconnect();
      const { rows } = await pool.query<{ nspname: string }>(
        `SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2`,
        [base, `${base}\\_%`],
      );
      for (const { nspname } of rows) await pool.query(`DROP SCHEMA IF EXISTS ${ident(nspname)} CASCADE`);
      await pool.end();
    },
  };
}

/**
 * Creates the topic and waits until every partition has a leader. kafkajs's own wait (waitForLeaders) gives
 * up when the controller answers UNKNOWN_TOPIC_OR_PARTITION for a topic it has just created, which a loaded
 * broker does while other tests create topics too: that is retried here.
 */
async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const ready = topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
      if (ready === numPartitions) return;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") throw error;
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline)
      throw new Error(`Topic ${topic} has no leader for every partition after 60 s.`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
