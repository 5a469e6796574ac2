import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
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

describe("startStack({ persist: true, restart })", () => {
  test("behavior: PostgreSQL and anvil killed with SIGKILL come back by themselves, on their ports, with their data", async () => {
    const shared = getStack();
    const dataDir = join(dirname(shared.dataDir), runFolderName("restart"));
    const stack = await startStack({
      cacheDir: dirname(shared.dataDir), // holds Kafka's jars; unused, Kafka is borrowed
      rpcUrl: undefined,
      databaseUrl: undefined,
      kafkaBrokers: shared.kafkaBrokers,
      ports: { anvil: undefined, postgres: undefined, kafka: undefined },
      startTimeoutMs: 90_000,
      dataDir,
      log: silentLogger,
      persist: true,
      stateIntervalSeconds: 1,
      restart: { initialDelayMs: 100 },
    });
    const gaveUp: ServerExitedError[] = [];
    stack.onCrash((error) => gaveUp.push(error));
    const { rpcUrl, databaseUrl } = stack.endpoints;
    const pidOf = (name: string) => stack.servers.find((server) => server.name === name)!.pid!;
    const figures: string[] = [];
    try {
      // A row, flushed to disk; a block, in a state dump.
      await withPg(databaseUrl, async (client) => {
        await client.query("create table kept (note text not null)");
        await client.query("insert into kept values ('still here')");
        await client.query("checkpoint");
      });
      const minedAt = Date.now();
      await rpc(rpcUrl, "eth_sendTransaction", [
        { from: anvilAccounts[0]!.address, to: anvilAccounts[1]!.address, value: "0x1" },
      ]);
      const block = await rpc<{ number: string; hash: string }>(rpcUrl, "eth_getBlockByNumber", [
        "latest",
        false,
      ]);
      const stateFile = join(dataDir, "anvil", "state.json");
      await until(
        "a state dump after the block",
        async () => existsSync(stateFile) && statSync(stateFile).mtimeMs > minedAt + 1_500,
      );

      const postgresPid = pidOf("postgres");
      let killedAt = Date.now();
      process.kill(postgresPid, "SIGKILL");
      const note = await until("the row at the same URL", () =>
        withPg(
          databaseUrl,
          async (client) => (await client.query("select note from kept")).rows[0]?.note,
        ).catch(() => undefined),
      );
      expect(note).toBe("still here");
      figures.push(`kill -9 postgres: answering again with its data after ${Date.now() - killedAt} ms`);

      const anvilPid = pidOf("anvil");
      killedAt = Date.now();
      process.kill(anvilPid, "SIGKILL");
      const hash = await until("the block at the same URL", () =>
        rpc<{ hash: string } | null>(rpcUrl, "eth_getBlockByNumber", [block.number, false]).then(
          (again) => again?.hash,
          () => undefined,
        ),
      );
      expect(hash).toBe(block.hash);
      figures.push(`kill -9 anvil:    answering again with its chain after ${Date.now() - killedAt} ms`);

      // The server answers a moment before its supervisor, which waits for the same answer, marks it running.
      await until("supervision to mark both running", async () =>
        stack.supervision().every((status) => status.state === "running") ? true : undefined,
      );
      const supervision = stack.supervision();
      expect(supervision.map(({ name, state, restarts }) => ({ name, state, restarts }))).toEqual([
        { name: "anvil", state: "running", restarts: 1 },
        { name: "postgres", state: "running", restarts: 1 },
      ]);
      expect(pidOf("postgres")).not.toBe(postgresPid);
      expect(pidOf("anvil")).not.toBe(anvilPid);
      expect(isAlive(pidOf("anvil")) && isAlive(pidOf("postgres"))).toBe(true);
      expect(gaveUp).toEqual([]);
      process.stdout.write(`[stack restart] ${figures.join("; ")}\n`);
    } finally {
      const pids = stack.servers.flatMap((server) => (server.pid ? [server.pid] : []));
      await stack.stop();
      expect(pids.filter(isAlive)).toEqual([]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.result === undefined) throw new Error(`${method}: ${body.error?.message ?? "no result"}`);
  return body.result;
}

async function withPg<T>(databaseUrl: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
