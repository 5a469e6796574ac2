// What the services rely on from kafkajs 2.2.4 against the Kafka 4 broker of the stack.
import { describe, expect, test } from "vitest";
import { kafkaUuid, serverProperties } from "./kafka.ts";
import { consumeMessages, createKafka, createTestTopic, uniqueTopic } from "./testing.ts";

describe("kafka", () => {
  test("behavior: createTopics makes the partitions asked for; an idempotent producer with acks=-1 writes once", async () => {
    const topic = await createTestTopic("kafka-idempotent", { numPartitions: 3 });
    const kafka = createKafka("kafka-idempotent");
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(metadata.topics[0]?.partitions).toHaveLength(3);

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      const messages = ["a", "b", "c"].map((key) => ({ key, value: `value-${key}` }));
      await producer.send({ topic, acks: -1, messages });
      await producer.disconnect();

      const groupId = `${topic}-group`;
      const read = await consumeMessages(topic, { count: 3, groupId });
      expect(read.map((m) => m.key).sort()).toEqual(["a", "b", "c"]);
      // The group committed what it read (3 messages spread over the partitions).
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      expect(committed).toBe(3);
    } finally {
      await admin.disconnect();
    }
  });

  test("behavior: a transactional producer's aborted messages are skipped by a readUncommitted: false group", async () => {
    const topic = await createTestTopic("kafka-transactions");
    const producer = createKafka("kafka-transactions").producer({
      transactionalId: uniqueTopic("tx"),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic, acks: -1, messages: [{ key: "k", value: "aborted" }] });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic, acks: -1, messages: [{ key: "k", value: "committed" }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    // One partition: the aborted message comes first in the log, so reading "committed" first proves it
    // was skipped.
    const [first] = await consumeMessages(topic, { count: 1, readUncommitted: false });
    expect(first?.value).toBe("committed");
    const [raw] = await consumeMessages(topic, { count: 1, readUncommitted: true });
    expect(raw?.value).toBe("aborted");
  });

  test("behavior: cluster ids never start with '-' (the storage tool would take one for an option)", () => {
    // One in 64 random ids would; 2,000 draws make a miss of the rule all but certain to show.
    const ids = Array.from({ length: 2_000 }, () => kafkaUuid());
    expect(ids.filter((id) => id.startsWith("-"))).toEqual([]);
    expect(ids.every((id) => /^[A-Za-z0-9_-]{22}$/.test(id))).toBe(true);
  });

  test("default: server.properties allow transactions on one node and never create topics by themselves", () => {
    const properties = serverProperties({ brokerPort: 1111, controllerPort: 2222, logDir: "/tmp/x" });
    for (const line of [
      "offsets.topic.replication.factor=1",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "listeners=PLAINTEXT://127.0.0.1:1111,CONTROLLER://127.0.0.1:2222",
    ]) {
      expect(properties.split("\n")).toContain(line);
    }
  });
});
