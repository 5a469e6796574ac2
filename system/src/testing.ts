// The whole system for one test file, through the same orchestration as `npm start` (startSystem), on the
// test run's servers. Isolated: a fresh deployment from a fresh deployer, its own topic prefix, projection
// schemas, gateway schema, consumer group and free ports. `stop` stops it and removes everything it made.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { type CareChainFixture, fixtureFor } from "@carechain/contracts/testing";
import { isAlive, runFolderName } from "@carechain/stack";
import { createKafka, getStack } from "@carechain/stack/testing";
import pg from "pg";
import { createTestClient, http, keccak256, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { loadSystemConfig } from "./config.ts";
import { type RunningSystem, type StartSystemOptions, startSystem } from "./system.ts";

export type TestSystem = {
  system: RunningSystem;
  /** Actors and devices on the system's deployment (fresh accounts, funded). */
  fixture: CareChainFixture;
  /** Unique per test file: names, seeds of content hashes. */
  id: string;
  /** Stops every process (asserting none is left) and drops its schemas, topics and folder. */
  stop: () => Promise<void>;
};

export async function startTestSystem(options: {
  /** Prefix of its names (`e2e`, `sup`): lower-case letters. */
  label: string;
  /** More system settings (RESTART_DELAY_MS, …). */
  env?: Record<string, string>;
  log: NonNullable<StartSystemOptions["log"]>;
}): Promise<TestSystem> {
  const stack = getStack();
  const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const names = {
    topicPrefix: `${options.label}-${id}`,
    schemaBase: `${options.label}_${id}`,
    gatewaySchema: `${options.label}_${id}_gateway`,
    groupId: `${options.label}-${id}-projector`,
  };
  const dataDir = join(dirname(stack.dataDir), runFolderName(`system-${options.label}`));
  const deployerKey = generatePrivateKey();
  const config = loadSystemConfig({
    CARECHAIN_CACHE_DIR: dataDir,
    CARECHAIN_DEMO: "0",
    DEPLOYER_PRIVATE_KEY: deployerKey,
    DEPLOYMENTS_DIR: join(dataDir, "deployments"),
    JWT_SECRET: toHex(keccak256(toHex(id))).slice(2),
    KAFKA_TOPIC_PREFIX: names.topicPrefix,
    KAFKA_GROUP_ID: names.groupId,
    PROJECTION_SCHEMA_BASE: names.schemaBase,
    GATEWAY_SCHEMA: names.gatewaySchema,
    POLL_INTERVAL_MS: "200",
    GATEWAY_PORT: "0", // a free one
    IDENTITY_PORT: "0",
    RECORDS_PORT: "0",
    VITALS_PORT: "0",
    INGEST_HEALTH_PORT: "0",
    PROJECTOR_HEALTH_PORT: "0",
    GATEWAY_METRICS_PORT: "0",
    DELIVERY_PORT: "0",
    WEB_PORT: "0",
    SERVICE_START_TIMEOUT_MS: "90000",
    CATCH_UP_TIMEOUT_MS: "60000",
    ...options.env,
  });
  // A fresh deployer (the well-known anvil accounts are shared by every test file).
  const testClient = createTestClient({ mode: "anvil", transport: http(stack.rpcUrl) });
  await testClient.setBalance({ address: privateKeyToAccount(deployerKey).address, value: parseEther("10") });

  const system = await startSystem({
    config,
    servers: { rpcUrl: stack.rpcUrl, databaseUrl: stack.databaseUrl, kafkaBrokers: stack.kafkaBrokers },
    dataDir,
    log: options.log,
  });
  const fixture = await fixtureFor({
    rpcUrl: stack.rpcUrl,
    deployment: system.deployment,
    adminPrivateKey: deployerKey,
  });

  async function stop(): Promise<void> {
    const pids = system.services.map((service) => service.process.pid);
    await system.stop();
    const left = pids.filter(isAlive);
    const client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      for (const schema of [
        names.schemaBase,
        `${names.schemaBase}_meta`,
        `${names.schemaBase}_p1`,
        names.gatewaySchema,
      ]) {
        await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
      }
    } finally {
      await client.end();
    }
    const admin = createKafka(`system-${options.label}-cleanup`).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(`${names.topicPrefix}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
    rmSync(dataDir, { recursive: true, force: true });
    // Nothing left running, whatever happened in the tests.
    if (left.length > 0) throw new Error(`processes left running after stop: ${left.join(", ")}`);
  }

  return { system, fixture, id, stop };
}

/** Polls `probe` until it returns a value (not undefined), failing with `what` after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
