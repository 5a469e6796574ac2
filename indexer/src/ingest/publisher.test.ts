import { getStack, uniqueTopic } from "@carechain/stack/testing";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { createKafkaClient } from "../kafka/client.ts";
import { ensureTopics } from "../kafka/ensure-topics.ts";
import { topicNames } from "../kafka/topics.ts";
import { hex32, TEST_CHAIN_ID } from "../projector/testing/envelopes.ts";
import { generateEvents } from "../projector/testing/generate.ts";
import { Publisher } from "./publisher.ts";
import { testKafka } from "./testing/ingest.ts";
import { readCommittedRaw } from "./testing/kafka.ts";

describe("Publisher", () => {
  test("behavior: transactions back to back log no error (the coordinator still finishing the previous commit)", async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const kafka = createKafkaClient({ clientId: "publisher-test", brokers: getStack().kafkaBrokers, logger });
    const topics = topicNames(uniqueTopic("publisher"));
    const admin = kafka.admin();
    await admin.connect();
    const publisher = new Publisher({
      kafka,
      admin,
      topics,
      transactionalId: `${topics.events}.tx`,
      eventPartitions: 3,
      logger,
    });
    try {
      await ensureTopics(admin, topics, { partitions: 3 });
      await publisher.connect();
      const events = generateEvents(7, 300);
      // What ingest does while backfilling: one transaction per range, the next one right after. Each is
      // readable when publish returns: the read_committed ends already count its events.
      const readableEnds = async () =>
        (await admin.fetchTopicOffsets(topics.events)).reduce((sum, { high }) => sum + Number(high), 0);
      for (let i = 0; i < events.length; i += 10) {
        await publisher.publish({
          events: events.slice(i, i + 10),
          deadLetters: [],
          checkpoint: {
            version: 1,
            chainId: TEST_CHAIN_ID,
            contracts: [],
            block: { number: i, hash: hex32(`block:${i}`) },
            window: [],
            events: i + 10,
          },
        });
        // Each transaction also leaves one marker per partition it wrote: at least the events.
        expect(await readableEnds()).toBeGreaterThanOrEqual(Math.min(i + 10, events.length));
      }
      expect(lines.filter((line) => line.level >= 40).map((line) => line.msg)).toEqual([]);
      const committed = await readCommittedRaw(testKafka(), topics.events, events.length);
      expect(committed.length).toBe(events.length);
    } finally {
      await publisher.disconnect();
      await admin.disconnect();
    }
  });
});
