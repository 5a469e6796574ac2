import type { Common } from "@carechain/common";
import { NonRetryableError, sleep } from "@carechain/common";
import { createPool, type Pool } from "../database/pool.ts";
import {
  ensureActiveGeneration,
  type Generation,
  generationGroupId,
  getActiveGeneration,
} from "../database/schemas.ts";
import { createKafkaClient } from "../kafka/client.ts";
import { topicNames } from "../kafka/topics.ts";
import type { BatchResult } from "./apply.ts";
import { type RunningConsumer, startConsumer } from "./consumer.ts";
import { LagTracker, type Stall } from "./lag.ts";
import { projectorMetrics } from "./metrics.ts";
import { readOffsets } from "./offsets.ts";
import { tableColumns } from "./sql.ts";

export type ProjectorOptions = {
  databaseUrl: string;
  kafkaBrokers: string[];
  /** Topic names come from the prefix (`<prefix>.events.v1`). */
  topicPrefix: string;
  /** Base of the consumer group ids: generation N consumes as `<groupId>.p<N>`. */
  groupId: string;
  /** Base of the schema names: `<base>` (views), `<base>_meta`, `<base>_p<N>`. */
  schemaBase: string;
  fetchMaxBytesPerPartition?: number;
  /** Kafka group session (default 6 s): how long a restart waits for a killed member's partitions. */
  sessionTimeoutMs?: number;
  /** Unhealthy once a partition with lag has not moved for this long (default 30 s). */
  stallAfterMs?: number;
  /** Blocks on top of an alert before it is final (default 12). */
  finalityDepth?: number;
};

export type ProjectorSettings = {
  /** Fill this generation (a rebuild) instead of following the active one. */
  generation?: Generation;
  /** Test hook: runs after a batch's writes, before its COMMIT; `batch` counts from 1 per process. */
  beforeCommit?: (batch: number) => void | Promise<void>;
  /** Called after each committed batch (awaited). */
  onBatch?: (info: { partition: number; result: BatchResult; batch: number }) => void | Promise<void>;
  /** How often to look for a newly activated generation (default 1 s). */
  generationPollMs?: number;
  /** How often to refresh the lag gauge from the topic's high watermarks (default 5 s). */
  lagRefreshMs?: number;
  /** How long health() waits for Kafka and PostgreSQL to answer (default 1.5 s). */
  healthTimeoutMs?: number;
};

export type Projector = {
  start: () => Promise<void>;
  stop: () => Promise<void>;
  /** The generation being filled. */
  generation: () => Generation | undefined;
  /** Messages not yet applied, per partition, against the topic's current high watermarks. */
  lag: () => Promise<Map<number, bigint>>;
  /** Resolves once every partition's lag is 0. */
  waitForCatchUp: (options?: { timeoutMs?: number; pollMs?: number }) => Promise<void>;
  health: () => Promise<{ ok: boolean; details?: Record<string, unknown> }>;
  pool: () => Pool;
};

/**
 * The projector: Kafka events topic -> PostgreSQL projections. By default it follows the ACTIVE generation
 * (creating generation 1 and the stable views on first start) and moves to a new generation when a rebuild
 * activates one. With `settings.generation` it fills that generation only (the rebuild).
 */
export function createProjector(
  common: Common<ProjectorOptions>,
  settings: ProjectorSettings = {},
): Projector {
  const { options, logger } = common;
  const topic = topicNames(options.topicPrefix).events;
  const instruments = projectorMetrics(common.metrics);
  let lag = new LagTracker(instruments.lag);
  const pool = createPool(options.databaseUrl, { applicationName: "carechain-projector" });
  const kafka = createKafkaClient({ clientId: "carechain-projector", brokers: options.kafkaBrokers, logger });
  const controller = new AbortController();
  let current: { generation: Generation; consumer: RunningConsumer } | undefined;
  let watcher: Promise<void> | undefined;
  let lagRefresher: Promise<void> | undefined;
  let admin: Promise<ReturnType<typeof kafka.admin>> | undefined;
  let switching = Promise.resolve();
  let stopping: Promise<void> | undefined;

  async function run(generation: Generation): Promise<void> {
    const client = await pool.connect();
    const columns = await tableColumns(client, generation.schema).finally(() => client.release());
    lag = new LagTracker(instruments.lag); // positions are per generation (each has its own offsets)
    const consumer = await startConsumer({
      kafka,
      pool,
      topic,
      groupId: generationGroupId(options.groupId, generation.generation),
      apply: { schema: generation.schema, columns, finalityDepth: options.finalityDepth },
      beforeCommit: settings.beforeCommit,
      logger: logger.child({ generation: generation.generation }),
      metrics: instruments,
      lag,
      fetchMaxBytesPerPartition: options.fetchMaxBytesPerPartition,
      sessionTimeoutMs: options.sessionTimeoutMs,
      signal: controller.signal,
      onBatch: settings.onBatch,
    });
    current = { generation, consumer };
    logger.info({ generation: generation.generation, schema: generation.schema, topic }, "projecting");
  }

  /** Follows the active generation: a rebuild that switched the views hands over to this process. */
  async function watchGenerations(): Promise<void> {
    while (!controller.signal.aborted) {
      await sleep(settings.generationPollMs ?? 1_000, controller.signal);
      if (controller.signal.aborted) return;
      try {
        const active = await getActiveGeneration(pool, options.schemaBase);
        if (!active || active.generation === current?.generation.generation) continue;
        logger.info(
          { from: current?.generation.generation, to: active.generation },
          "active generation changed",
        );
        switching = (async () => {
          await current?.consumer.stop();
          await run(active);
        })();
        await switching;
      } catch (error) {
        logger.warn({ err: error }, "checking the active generation failed");
      }
    }
  }

  const reported = new Set<number>(); // stalled partitions already logged
  /** Keeps the lag gauge true while no batch arrives (a stalled consumer still shows a growing lag). */
  async function refreshLag(): Promise<void> {
    while (!controller.signal.aborted) {
      await sleep(settings.lagRefreshMs ?? 5_000, controller.signal);
      if (controller.signal.aborted) return;
      await projector.lag().catch((error) => logger.warn({ err: error }, "refreshing the lag failed"));
      const stalls = stalledPartitions();
      for (const stall of stalls) {
        if (reported.has(stall.partition)) continue;
        reported.add(stall.partition);
        const { partition, since, lag: behind, position } = stall;
        logger.error(
          { partition, since, lag: Number(behind), offset: Number(position) },
          "partition makes no progress",
        );
      }
      for (const partition of reported) {
        if (stalls.some((stall) => stall.partition === partition)) continue;
        reported.delete(partition);
        logger.info({ partition }, "partition makes progress again");
      }
    }
  }

  /** Partitions with lag that have not moved for `stallAfterMs`; keeps the stalled gauge true. */
  function stalledPartitions(): Stall[] {
    const stalls = lag.stalled(options.stallAfterMs ?? 30_000);
    instruments.stalled.reset();
    for (const stall of stalls) instruments.stalled.set({ partition: String(stall.partition) }, 1);
    return stalls;
  }

  /** One check at a time per dependency: probes that pile up on a hung server add nothing. */
  const pending = new Map<string, Promise<string | null>>();
  /** null when `probe` succeeds within the health timeout, else why not. Never rejects. */
  async function check(name: string, probe: () => Promise<unknown>): Promise<string | null> {
    let running = pending.get(name);
    if (!running) {
      running = probe()
        .then(
          () => null,
          (error: unknown) => (error instanceof Error ? error.message : String(error)),
        )
        .finally(() => pending.delete(name));
      pending.set(name, running);
    }
    const timeoutMs = settings.healthTimeoutMs ?? 1_500;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
    });
    try {
      return await Promise.race([running, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  const projector: Projector = {
    pool: () => pool,
    generation: () => current?.generation ?? settings.generation,
    async start() {
      const generation =
        settings.generation ??
        (await ensureActiveGeneration(
          { pool, databaseUrl: options.databaseUrl, base: options.schemaBase, logger },
          options.groupId,
        ));
      await run(generation);
      if (!settings.generation) watcher = watchGenerations();
      lagRefresher = refreshLag();
    },
    stop() {
      stopping ??= (async () => {
        controller.abort();
        await watcher;
        await lagRefresher;
        await (await admin?.catch(() => undefined))?.disconnect();
        await switching.catch(() => {});
        await current?.consumer.stop();
        await pool.end();
      })();
      return stopping;
    },
    async lag() {
      const generation = projector.generation();
      admin ??= (async () => {
        const client = kafka.admin();
        await client.connect();
        return client;
      })().catch((error) => {
        admin = undefined; // Kafka was down: connect again next time
        throw error;
      });
      const offsets = await (await admin).fetchTopicOffsets(topic);
      const stored = generation
        ? await readOffsets(pool, generation.schema, topic)
        : new Map<number, bigint>();
      const out = new Map<number, bigint>();
      for (const { partition, high, low } of offsets) {
        let position = BigInt(low);
        for (const known of [lag.position(partition), stored.get(partition)]) {
          if (known !== undefined && known > position) position = known;
        }
        lag.setHigh(partition, BigInt(high));
        out.set(partition, BigInt(high) > position ? BigInt(high) - position : 0n);
      }
      return out;
    },
    async waitForCatchUp({ timeoutMs = 60_000, pollMs = 200 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lags = await projector.lag();
        if ([...lags.values()].every((value) => value === 0n)) return;
        if (Date.now() > deadline) {
          throw new NonRetryableError(`Projector did not catch up within ${timeoutMs} ms.`, {
            details: [...lags].map(([p, l]) => `partition ${p}: lag ${l}`).join(", "),
          });
        }
        await sleep(pollMs, controller.signal);
      }
    },
    /**
     * Unhealthy, with the reasons, when the consumer gave up, Kafka or PostgreSQL does not answer, or a
     * partition with lag has not moved for `stallAfterMs` (it would never catch up by itself).
     */
    async health() {
      const consumerOk = current?.consumer.healthy() ?? false;
      // projector.lag() asks Kafka for the high watermarks: a reachability check that also refreshes them.
      const [kafkaError, databaseError] = await Promise.all([
        check("kafka", () => projector.lag()),
        check("database", () => pool.query("SELECT 1")),
      ]);
      const stalls = stalledPartitions();
      const reasons: string[] = [];
      if (!current) reasons.push("the consumer has not started");
      else if (!consumerOk) reasons.push("the Kafka consumer crashed and gave up");
      if (kafkaError) reasons.push(`Kafka is unreachable: ${kafkaError}`);
      if (databaseError) reasons.push(`PostgreSQL is unreachable: ${databaseError}`);
      for (const stall of stalls) {
        reasons.push(
          `partition ${stall.partition} has made no progress since ${stall.since.toISOString()} ` +
            `(lag ${stall.lag}, at offset ${stall.position})`,
        );
      }
      return {
        ok: reasons.length === 0,
        details: {
          consumer: consumerOk,
          kafka: kafkaError === null,
          database: databaseError === null,
          generation: current?.generation.generation,
          stalled: stalls.map((stall) => ({
            partition: stall.partition,
            since: stall.since.toISOString(),
            lag: Number(stall.lag),
            offset: Number(stall.position),
          })),
          ...(reasons.length > 0 ? { reasons } : {}),
        },
      };
    },
  };

  return projector;
}
