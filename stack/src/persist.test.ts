// A persistent stack (`persist: true`, what `npm start` uses) keeps the chain, the database and Kafka's
// topics from one start to the next. A stack of its own (all three servers), in a folder beside the test
// run's, so that a killed test run's leftovers get swept.
import { existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { silentLogger } from "./logger.ts";
import { isAlive } from "./processes.ts";
import { runFolderName } from "./run-state.ts";
import { type RunningStack, type StackOptions, startStack } from "./stack.ts";
import { anvilAccounts, getStack } from "./testing.ts";

const runsDir = dirname(getStack().dataDir);
const dataDir = join(runsDir, runFolderName("persist"));
const options: StackOptions = {
  cacheDir: dirname(dirname(runsDir)), // the real cache: Kafka's jars are fetched already
  rpcUrl: undefined,
  databaseUrl: undefined,
  kafkaBrokers: undefined,
  ports: { anvil: undefined, postgres: undefined, kafka: undefined },
  startTimeoutMs: 150_000,
  dataDir,
  log: silentLogger,
  persist: true,
  stopTimeoutMs: 20_000,
};
let running: RunningStack | undefined;

afterAll(async () => {
  await running?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("startStack({ persist: true })", () => {
  test("behavior: a block, a row and a message written before a stop are there after the next start", async () => {
    running = await startStack(options);
    const first = running.endpoints;
    const txHash = await rpc<string>(first.rpcUrl, "eth_sendTransaction", [
      { from: anvilAccounts[0]!.address, to: anvilAccounts[1]!.address, value: "0x1" },
    ]);
    const block = await rpc<{ number: string; hash: string }>(first.rpcUrl, "eth_getBlockByNumber", [
      "latest",
      false,
    ]);
    await withPg(first.databaseUrl, async (client) => {
      await client.query("create table kept (id int primary key, note text not null)");
      await client.query("insert into kept values (1, 'still here')");
    });
    const kafka = kafkaFor(first.kafkaBrokers);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: "kept", numPartitions: 1 }], waitForLeaders: true });
    const clusterId = (await admin.describeCluster()).clusterId;
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic: "kept", acks: -1, messages: [{ key: "k", value: "still here" }] });
    await producer.disconnect();

    const pids = running.servers.map((server) => server.pid!);
    await running.stop();
    running = undefined;
    expect(pids.filter(isAlive)).toEqual([]);
    expect(existsSync(join(dataDir, "anvil", "state.json"))).toBe(true);

    running = await startStack(options);
    const second = running.endpoints;
    // The same ports again (they were free), the same chain, cluster, table and topic.
    expect(second).toEqual(first);
    const again = await rpc<{ number: string; hash: string }>(second.rpcUrl, "eth_getBlockByNumber", [
      block.number,
      false,
    ]);
    expect(again.hash).toBe(block.hash);
    const receipt = await rpc<{ status: string }>(second.rpcUrl, "eth_getTransactionReceipt", [txHash]);
    expect(receipt.status).toBe("0x1");
    await withPg(second.databaseUrl, async (client) => {
      expect((await client.query("select note from kept")).rows).toEqual([{ note: "still here" }]);
    });
    const admin2 = kafkaFor(second.kafkaBrokers).admin();
    await admin2.connect();
    try {
      expect((await admin2.describeCluster()).clusterId).toBe(clusterId);
      const [offsets] = await admin2.fetchTopicOffsets("kept");
      expect(offsets).toMatchObject({ partition: 0, low: "0", high: "1" });
    } finally {
      await admin2.disconnect();
    }
  }, 400_000);
});

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? "no result"}`);
  return body.result;
}

async function withPg(databaseUrl: string, use: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await use(client);
  } finally {
    await client.end();
  }
}

function kafkaFor(brokers: string[]): Kafka {
  return new Kafka({ clientId: "stack-persist-test", brokers, logLevel: logLevel.NOTHING });
}
