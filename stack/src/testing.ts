// Test helpers for every workspace (@carechain/stack/testing). Integration tests use the real servers
// the vitest global setup started, and isolate themselves: their own schema, their own topics.
import { randomBytes } from "node:crypto";
import { Kafka, type KafkaConfig, logLevel } from "kafkajs";
import pg from "pg";
import { inject } from "vitest";
import type { StackEndpoints } from "./provided-context.ts";

export { anvilAccounts, type TestAccount } from "./anvil-accounts.ts";
export type { StackEndpoints };

/** The endpoints of the stack the vitest global setup started. */
export function getStack(): StackEndpoints {
  const stack = inject("stack");
  if (!stack) {
    throw new Error(
      "no stack: run tests through vitest with stack/src/vitest-global-setup.ts as globalSetup",
    );
  }
  return stack;
}

export interface TestSchema {
  /** The stack's database URL with this schema as the search_path: plain queries land in it. */
  databaseUrl: string;
  schema: string;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/** A fresh PostgreSQL schema for one test (cheap: no new database, no template copy). */
export async function createTestSchema(prefix = "test"): Promise<TestSchema> {
  const base = getStack().databaseUrl;
  const schema = uniqueName(prefix, "_", 63);
  await withClient(base, (client) => client.query(`create schema ${client.escapeIdentifier(schema)}`));
  const url = new URL(base);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return {
    databaseUrl: url.toString(),
    schema,
    drop: () =>
      withClient(base, async (client) => {
        await client.query(`drop schema if exists ${client.escapeIdentifier(schema)} cascade`);
      }),
  };
}

/** A topic name no other test uses. Topics are not created automatically: create it (createTestTopic). */
export function uniqueTopic(prefix = "test"): string {
  return uniqueName(prefix, "-", 200);
}

/** Creates a unique topic on the stack's Kafka and returns its name. */
export async function createTestTopic(
  prefix = "test",
  options: { numPartitions?: number } = {},
): Promise<string> {
  const topic = uniqueTopic(prefix);
  const admin = createKafka(`${prefix}-admin`).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.numPartitions ?? 1 }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/**
 * A kafkajs client for the stack's Kafka. Quiet by default: kafkajs logs every retried request as an
 * error (a coordinator still loading, a transaction still committing); failures still reject.
 */
export function createKafka(clientId = "test", config: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId, brokers: getStack().kafkaBrokers, logLevel: logLevel.NOTHING, ...config });
}

export interface ConsumedMessage {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads `count` messages of `topic` from the beginning with a consumer group of its own (committed
 * transactions only, unless `readUncommitted`), then leaves the group. Rejects after `timeoutMs`.
 */
export async function consumeMessages(
  topic: string,
  options: { count: number; timeoutMs?: number; groupId?: string; readUncommitted?: boolean },
): Promise<ConsumedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const consumer = createKafka(`${topic}-reader`).consumer({
    groupId: options.groupId ?? uniqueName(`${topic}-reader`, "-", 200),
    readUncommitted: options.readUncommitted ?? false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const messages: ConsumedMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${messages.length} of ${options.count} messages of ${topic} in ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            messages.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
              ),
            });
            if (messages.length >= options.count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    return messages.slice(0, options.count);
  } finally {
    await consumer.disconnect();
  }
}

async function withClient<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

function uniqueName(prefix: string, separator: string, maxLength: number): string {
  // Lower-case letters, digits and the separator, starting with a letter: valid unquoted everywhere.
  let clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, separator);
  if (!/^[a-z]/.test(clean)) clean = `t${separator}${clean}`;
  const suffix = `${Date.now().toString(36)}${separator}${randomBytes(4).toString("hex")}`;
  return `${clean.slice(0, maxLength - suffix.length - 1)}${separator}${suffix}`;
}
