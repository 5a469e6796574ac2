import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Deployment } from "@carechain/contracts";
import { getStack, uniqueTopic } from "@carechain/stack/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { topicNames } from "../kafka/topics.ts";
import { TestChain } from "./testing/chain.ts";
import { compareWithChain, testKafka } from "./testing/ingest.ts";
import { readCommittedRaw } from "./testing/kafka.ts";
import { readToEndUncommitted } from "./testing/uncommitted.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const main = join(repoRoot, "indexer/src/ingest/main.ts");

/** `tsx indexer/src/ingest/main.ts` with `env`; `onLog` sees each JSON log line. */
function runIngest(
  env: Record<string, string>,
  onLog: (line: { msg?: string; url?: string }) => void,
): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", main], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  createInterface({ input: child.stderr! }).on("line", (line) => {
    try {
      onLog(JSON.parse(line));
    } catch {
      // not a log line
    }
  });
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    if (child.exitCode !== null || child.signalCode !== null)
      done({ code: child.exitCode, signal: child.signalCode });
    else child.once("exit", (code, signal) => done({ code, signal }));
  });

describe("ingest crash recovery (child process)", () => {
  let chain: TestChain;
  let deployment: Deployment;
  let dir: string;
  const kafka = testKafka();

  beforeAll(async () => {
    chain = new TestChain(getStack().rpcUrl);
    dir = mkdtempSync(join(tmpdir(), "ingest-crash-"));
    deployment = await chain.deploy({ deploymentsDir: dir });
    // Several calls: anvil packs concurrent transactions, and the test needs many blocks (transactions).
    for (let i = 0; i < 5; i++)
      await chain.generateReadings(deployment, { patients: 1, batches: 4, perBatch: 20 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("behavior: kill -9 in the middle of a transaction, then a restart, leaves exactly one copy of each event", async () => {
    const prefix = uniqueTopic("ingest-crash");
    const topics = topicNames(prefix);
    const env = {
      RPC_URL: getStack().rpcUrl,
      DEPLOYMENTS_DIR: dir,
      KAFKA_BROKERS: getStack().kafkaBrokers.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      MAX_BLOCK_RANGE: "1",
      POLL_INTERVAL_MS: "100",
      INGEST_HEALTH_PORT: "0",
      LOG_LEVEL: "debug",
    };

    // First run: slow transactions; SIGKILL while the third one is open (events sent, not committed).
    let open = 0;
    const first = runIngest({ ...env, INGEST_TEST_DELAY_IN_TRANSACTION_MS: "400" }, (line) => {
      if (line.msg === "transaction open" && ++open === 3) first.kill("SIGKILL");
    });
    const guard = setTimeout(() => first.kill("SIGKILL"), 30_000); // never hang the suite
    expect(await exited(first)).toEqual({ code: null, signal: "SIGKILL" });
    clearTimeout(guard);
    expect(open).toBe(3);
    const committedBefore = (await readCommittedRaw(kafka, topics.events)).length;
    const written = await readToEndUncommitted(kafka, topics.events);
    expect(written).toBeGreaterThan(committedBefore); // the open transaction had written events

    // Second run: resumes after the last committed checkpoint and finishes.
    const expected = (await chain.logs(deployment)).length;
    let healthUrl = "";
    const second = runIngest(env, (line) => {
      if (line.msg === "health and metrics server listening") healthUrl = line.url ?? "";
    });
    try {
      // A whole restart (tsx, fencing the killed producer, a transaction per block): on a busy machine
      // this takes far longer than one commit's markers, hence its own deadline.
      const committed = await readCommittedRaw(kafka, topics.events, expected, { timeoutMs: 90_000 });
      expect(committed.length).toBe(expected);
      await expect.poll(() => healthUrl).not.toBe("");
      await expect.poll(async () => (await fetch(`${healthUrl}/health`)).status).toBe(200);
      expect(await (await fetch(`${healthUrl}/metrics`)).text()).toMatch(
        /carechain_ingest_indexed_block\{[^}]*\} \d+/,
      );
    } finally {
      second.kill("SIGTERM");
    }
    expect((await exited(second)).code).toBe(0);

    const result = await compareWithChain(kafka, topics.events, chain, deployment, expected);
    expect(result.missing).toEqual([]);
    expect(result.duplicates).toBe(0);
    expect(result.extra).toEqual([]);
    expect(result.keysOutOfOrder).toBe(0);
  }, 180_000);
});
