import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import pg from "pg";
import { describe, expect, test } from "vitest";
import { checkChain } from "./anvil.ts";
import { PortInUseError, ServerExitedError } from "./errors.ts";
import { silentLogger } from "./logger.ts";
import { HOST } from "./ports.ts";
import { isAlive, withTimeout } from "./processes.ts";
import { runFolderName } from "./run-state.ts";
import { type StackOptions, startStack } from "./stack.ts";
import {
  anvilAccounts,
  consumeMessages,
  createKafka,
  createTestSchema,
  createTestTopic,
  getStack,
} from "./testing.ts";

describe("stack", () => {
  test("default: a message goes through the real Kafka, a row through the real PostgreSQL, anvil answers", async () => {
    const stack = getStack();

    const topic = await createTestTopic("stack-roundtrip");
    const producer = createKafka("stack-roundtrip").producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: "record-1", value: "sha256:0f1e2d" }] });
    await producer.disconnect();
    const [message] = await consumeMessages(topic, { count: 1 });
    expect(message).toMatchObject({ key: "record-1", value: "sha256:0f1e2d", offset: "0" });

    const schema = await createTestSchema("stack_roundtrip");
    const client = new pg.Client({ connectionString: schema.databaseUrl });
    await client.connect();
    try {
      await client.query("create table received (key text primary key, value text not null)");
      await client.query("insert into received values ($1, $2)", [message?.key, message?.value]);
      const rows = await client.query("select key, value from received");
      expect(rows.rows).toEqual([{ key: "record-1", value: "sha256:0f1e2d" }]);
      const where = await client.query(
        "select table_schema from information_schema.tables where table_name = 'received'",
      );
      expect(where.rows).toEqual([{ table_schema: schema.schema }]);
    } finally {
      await client.end();
      await schema.drop();
    }

    const chain = await checkChain(stack.rpcUrl);
    expect(chain.chainId).toBe(31337);
    expect(stack.chainId).toBe(31337);
    expect(chain.blockNumber).toBeGreaterThanOrEqual(0n);
  });

  test("behavior: anvilAccounts are the accounts and keys the running anvil prints", () => {
    const log = readFileSync(join(getStack().dataDir, "logs", "anvil.log"), "utf8");
    expect(anvilAccounts).toHaveLength(10);
    for (const [index, account] of anvilAccounts.entries()) {
      expect(log).toContain(`(${index}) ${account.address}`);
      expect(log).toContain(`(${index}) ${account.privateKey}`);
    }
  });

  test("behavior: every test schema is its own and drop() removes it", async () => {
    const [a, b] = await Promise.all([createTestSchema("isolated"), createTestSchema("isolated")]);
    expect(a.schema).not.toBe(b.schema);
    const client = new pg.Client({ connectionString: getStack().databaseUrl });
    await client.connect();
    try {
      await a.drop();
      const left = await client.query("select nspname from pg_namespace where nspname = any($1)", [
        [a.schema, b.schema],
      ]);
      expect(left.rows).toEqual([{ nspname: b.schema }]);
    } finally {
      await b.drop();
      await client.end();
    }
  });
});

/**
 * A second stack beside the one of the test run that starts only anvil (cheap) and borrows the run's
 * PostgreSQL and Kafka; its folder sits with the run's, so a killed test run's leftovers get swept.
 */
function anvilOnlyOptions(
  ports: StackOptions["ports"] = { anvil: undefined, postgres: undefined, kafka: undefined },
) {
  const shared = getStack();
  const dataDir = join(dirname(shared.dataDir), runFolderName("lifecycle"));
  const options: StackOptions = {
    cacheDir: dirname(shared.dataDir), // holds Kafka's jars; unused, Kafka is borrowed
    rpcUrl: undefined,
    databaseUrl: shared.databaseUrl,
    kafkaBrokers: shared.kafkaBrokers,
    ports,
    startTimeoutMs: 30_000,
    dataDir,
    log: silentLogger,
  };
  return { options, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) };
}

describe("startStack", () => {
  test("behavior: a server killed with SIGKILL is reported by name with its log tail, not hung on", async () => {
    const { options, cleanup } = anvilOnlyOptions();
    const stack = await startStack(options);
    try {
      const anvil = stack.servers.find((server) => server.name === "anvil");
      expect(anvil?.pid).toBeGreaterThan(0);
      const seen: ServerExitedError[] = [];
      stack.onCrash((error) => seen.push(error));
      process.kill(anvil!.pid!, "SIGKILL");
      const crash = await withTimeout(stack.crashed, 10_000);
      expect(crash).toBeInstanceOf(ServerExitedError);
      expect(crash).toMatchObject({ server: "anvil", signal: "SIGKILL" });
      expect(crash.message).toContain("anvil killed by SIGKILL");
      expect(crash.message).toContain("Listening on 127.0.0.1:");
      expect(seen.map((error) => error.server)).toEqual(["anvil"]);
      // The servers it did not start (given by URL) are reported as such, without a pid.
      expect(stack.servers.find((server) => server.name === "kafka")?.pid).toBeUndefined();
    } finally {
      await stack.stop();
      cleanup();
    }
  });

  test("behavior: stop() stops every process it started and can be called twice", async () => {
    const { options, cleanup } = anvilOnlyOptions();
    const stack = await startStack(options);
    try {
      const pids = stack.servers.flatMap((server) => (server.pid ? [server.pid] : []));
      expect(pids).toHaveLength(1);
      await Promise.all([stack.stop(), stack.stop()]);
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      cleanup();
    }
  });

  test("error: a data folder that is not empty is refused before anything starts", async () => {
    const { options, cleanup } = anvilOnlyOptions();
    try {
      mkdirSync(join(options.dataDir, "postgres"), { recursive: true });
      await expect(startStack(options)).rejects.toThrow(/is not empty: startStack needs a new folder/);
    } finally {
      cleanup();
    }
  });

  test("error: a taken ANVIL_PORT is refused, naming the variable to change", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, HOST, resolve));
    const port = (blocker.address() as { port: number }).port;
    const { options, cleanup } = anvilOnlyOptions({ anvil: port, postgres: undefined, kafka: undefined });
    try {
      const error = await startStack(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PortInUseError);
      expect((error as Error).message).toContain(`port ${port} (ANVIL_PORT)`);
    } finally {
      blocker.close();
      cleanup();
    }
  });
});
