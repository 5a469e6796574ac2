export type { IngestState, IngestStatus } from "./health.ts";

import {
  type Common,
  ConfigError,
  chainClock,
  type EventEnvelope,
  type HealthCheck,
  isRetryable,
  NonRetryableError,
  RetryableError,
  retractionOf,
  sleep,
  withRetry,
} from "@carechain/common";
import {
  DeploymentFileError,
  readDeployment,
  readDeploymentFile,
  type WatchedContracts,
  watchedContracts,
} from "@carechain/contracts";
import type { Admin, Kafka } from "kafkajs";
import { PublishFailedError } from "../errors.ts";
import { createKafkaClient } from "../kafka/client.ts";
import { ensureTopics } from "../kafka/ensure-topics.ts";
import { topicNames } from "../kafka/topics.ts";
import { AdaptiveRange } from "./adaptive-range.ts";
import { type BlockRef, BlockWindow } from "./block-window.ts";
import { type Checkpoint, readLatestCheckpoint } from "./checkpoint.ts";
import type { IngestOptions } from "./config.ts";
import { type IngestState, type IngestStatus, ingestHealthCheck } from "./health.ts";
import { createIngestMetrics, ProgressLog } from "./metrics.ts";
import { readPublishedUntil } from "./published-log.ts";
import { type PublishBatch, Publisher } from "./publisher.ts";
import { type ReadRange, readRange } from "./read-range.ts";
import { pollHead } from "./realtime.ts";
import { RecentEvents } from "./recent-events.ts";
import { recoverWindowEvents } from "./recover.ts";
import { createRpc } from "./rpc.ts";

export type Ingest = {
  /** Connects, creates the topics, resumes from the committed checkpoint and starts the loop. */
  start(): Promise<void>;
  /** Stops the loop after the current step and disconnects; idempotent. */
  stop(): Promise<void>;
  /** Settles when the loop ends: resolves after stop(), rejects on a failure retrying cannot fix. */
  readonly done: Promise<void>;
  status(): IngestStatus;
  /** For the health server: the last loop iteration succeeded recently and the producer is connected. */
  health: HealthCheck;
};

/**
 * Chain -> Kafka: reads every log of the watched contracts (backfill in adaptive ranges, then following
 * the head), decodes them into envelopes and publishes them with the checkpoint in one Kafka transaction
 * per range; repairs reorgs with retractions. See indexer/README.md, "Ingest".
 */
export function createIngest(common: Common<IngestOptions>): Ingest {
  const { options, logger } = common;
  const metrics = createIngestMetrics(common.metrics);
  const controller = new AbortController();
  const signal = AbortSignal.any([controller.signal, common.shutdown.signal]);
  const topics = topicNames(options.kafka.topicPrefix);
  const rpc = createRpc({
    url: options.rpcUrl,
    timeoutMs: options.rpcTimeoutMs,
    logger,
    signal,
    onError: (method, kind) => metrics.rpcErrors.inc({ method, kind }),
  });
  const kafka: Kafka = createKafkaClient({
    clientId: options.kafka.clientId ?? "carechain-ingest",
    brokers: options.kafka.brokers,
    logger,
  });
  const admin: Admin = kafka.admin();
  const range = new AdaptiveRange({
    max: options.maxBlockRange,
    // Start small: growing is cheap, while a first range far too large costs a huge refused response.
    initial: Math.min(options.maxBlockRange, 10),
  });
  const progress = new ProgressLog(logger);

  let state: IngestState = "created";
  let chainId = 0;
  let contracts: WatchedContracts = { addresses: [], startBlock: 0 };
  let publisher: Publisher | undefined;
  // Where the committed log stands; null before the first range of a fresh log.
  let cursor: BlockRef | null = null;
  let window = new BlockWindow(options.reorgWindow);
  let recent = new RecentEvents();
  let events = 0;
  let head: number | null = null;
  // Partitions of the events topic: each gets the chain clock.
  let partitions = options.kafka.partitions;
  let lastSuccessAt: number | null = null;
  let lastProgressAt: number | null = null;
  let mustResume = false;
  let resolveDone: () => void = () => {};
  let rejectDone: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => undefined); // observed by whoever awaits it; not an unhandled rejection meanwhile

  async function start(): Promise<void> {
    if (state !== "created") throw new Error("Ingest was already started.");
    state = "starting";
    common.shutdown.add("ingest", stop);
    const rpcChainId = await rpc.chainId();
    if (options.chainId !== undefined && options.chainId !== rpcChainId) {
      throw new ConfigError(
        `CHAIN_ID is ${options.chainId} but the RPC serves chain ${rpcChainId}: fix one of them.`,
      );
    }
    chainId = rpcChainId;
    contracts = resolveContracts(options.contracts, chainId);
    // Kafka answers transient errors at start-up (a new topic's leader not elected yet, a coordinator
    // still loading): retried here, rather than exiting and leaving it to a supervisor.
    await withRetry(
      async () => {
        await admin.connect();
        await ensureTopics(admin, topics, { partitions: options.kafka.partitions });
        // The topic may exist already, with its own partition count: that is the one messages are keyed for.
        const [eventsTopic] = (await admin.fetchTopicMetadata({ topics: [topics.events] })).topics;
        await publisher?.disconnect().catch(() => undefined);
        partitions = eventsTopic?.partitions.length ?? options.kafka.partitions;
        publisher = new Publisher({
          kafka,
          admin,
          topics,
          transactionalId: `carechain-ingest.${options.kafka.topicPrefix}.${chainId}`,
          eventPartitions: partitions,
          logger,
          delayInTransactionMs: options.delayInTransactionMs,
        });
        await publisher.connect();
        await resume();
      },
      {
        retries: 8,
        initialDelayMs: 250,
        maxDelayMs: 5_000,
        signal,
        onRetry: ({ attempt, delayMs, error }) =>
          logger.warn({ err: error, attempt, delayMs }, "ingest start: Kafka not ready; retrying"),
      },
    );
    state = "running";
    void loop().then(resolveDone, rejectDone);
  }

  /** Restores the state from the latest committed checkpoint (after start, and after a failed publish). */
  async function resume(): Promise<void> {
    const checkpoint = await readLatestCheckpoint(kafka, admin, topics.checkpoints, chainId);
    recent = new RecentEvents();
    if (!checkpoint) {
      cursor = null;
      window = new BlockWindow(options.reorgWindow);
      events = 0;
      logger.info(
        { chainId, startBlock: contracts.startBlock },
        "no checkpoint: ingesting from the start block",
      );
      return;
    }
    if (checkpoint.contracts.join() !== contracts.addresses.join()) {
      throw new NonRetryableError(
        "The checkpoint topic belongs to other contracts: set another KAFKA_TOPIC_PREFIX for this deployment.",
      );
    }
    cursor = checkpoint.block;
    window = new BlockWindow(options.reorgWindow, checkpoint.window);
    events = checkpoint.events;
    recent.add(
      await recoverWindowEvents(rpc, window, {
        addresses: contracts.addresses,
        chainId,
        partitions,
        signal,
        logger,
        fromLog: publishedIn,
      }),
    );
    metrics.indexedBlock.set(cursor.number);
    logger.info({ chainId, block: cursor.number, events }, "resuming after the committed checkpoint");
  }

  async function loop(): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await step();
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (!isRetryable(error)) {
          state = "failed";
          logger.error({ err: error }, "ingest stopped: retrying cannot help");
          throw error;
        }
        failures++;
        // The message says what failed (with its details): most errors are plain RetryableErrors.
        const { name, message } = error as Error;
        logger.warn({ error: name, message, failures }, "ingest step failed; retrying");
        await sleep(Math.min(10_000, 100 * 2 ** Math.min(failures, 7)), signal);
        // An interrupted transaction may or may not have committed: before publishing anything else,
        // reconnect (fencing it) and re-read the checkpoint (see step()).
        if (error instanceof PublishFailedError) mustResume = true;
      }
    }
  }

  async function reconnect(): Promise<void> {
    await publisher?.disconnect().catch(() => undefined);
    await publisher?.connect();
    await resume();
    mustResume = false;
  }

  async function step(): Promise<void> {
    if (mustResume) await reconnect();
    const after = cursor?.number ?? contracts.startBlock - 1;
    const poll = await pollHead(
      rpc,
      { cursor, after, confirmations: options.confirmations, intervalMs: options.pollIntervalMs, signal },
      { onHead: observeHead, onIdle: markSuccess },
    );
    if (poll.kind === "stopped") return;
    if (poll.kind === "reorg") return repairReorg();
    const { target } = poll;
    // The head this poll saw: every block read now has at least `head - block` blocks on top.
    const seenHead = target + options.confirmations;
    // Far behind the head: report progress (a line every 5 s) until caught up.
    if (!progress.active && target - after > 100) progress.begin(after + 1, target);
    const read = (from: number) =>
      readRange(rpc, range, { addresses: contracts.addresses, chainId, from, target, signal });
    let current = await read(after + 1);
    for (;;) {
      if (cursor && current.first.parentHash !== cursor.hash) return repairReorg();
      // Read the next range while this one is published: the RPC and Kafka wait in parallel.
      const next = current.to < target && !signal.aborted ? read(current.to + 1) : undefined;
      next?.catch(() => undefined); // settled below, or dropped when publishing fails
      await commitRange(current, seenHead);
      lastSuccessAt = Date.now();
      if (!next) return;
      current = await next;
    }
  }

  /**
   * Publishes a read range with its checkpoint (one transaction), then moves the cursor past it. After the
   * range's events, the chain clock of its last block goes to every partition: time passed up to there,
   * even where no event did (grant expiry and alert finality are facts of that time, see derived.ts).
   */
  async function commitRange(read: ReadRange, seenHead: number): Promise<void> {
    const { from, to, deadLetters } = read;
    const envelopes = read.envelopes.map((envelope) => ({
      ...envelope,
      confirmations: Math.max(0, seenHead - envelope.blockNumber),
    }));
    const block = { chainId, number: to, hash: read.last.hash, timestamp: read.last.timestamp };
    const clocks = Array.from({ length: partitions }, (_, partition) =>
      chainClock(block, { partition, partitions }, Math.max(0, seenHead - to)),
    );
    metrics.blockRange.set(range.size);
    const nextWindow = window.with(read.headers.map(({ number, hash }) => ({ number, hash })));
    const checkpoint = makeCheckpoint(
      { number: to, hash: read.last.hash },
      nextWindow,
      events + envelopes.length,
    );
    // Every range is published, if only for its clock: time passing is news to the projector.
    await publish({ events: [...envelopes, ...clocks], deadLetters, checkpoint });
    cursor = checkpoint.block;
    window = nextWindow;
    events = checkpoint.events;
    // A reorg retracts the clock with its block (newest first: the clock is the block's last envelope).
    recent.add([...envelopes, ...clocks]);
    recent.dropBefore(window.oldest?.number ?? 0);
    metrics.blocks.inc(to - from + 1);
    metrics.events.inc({ kind: "event" }, envelopes.length);
    metrics.deadLetters.inc(deadLetters.length);
    metrics.indexedBlock.set(to);
    lastProgressAt = Date.now();
    if (head !== null) metrics.lagBlocks.set(Math.max(0, head - to));
    progress.advance(to - from + 1, envelopes.length, to, Math.max(head ?? to, to));
  }

  /**
   * The chain no longer holds our latest block (a reorg, or a node restarted from an older state or behind
   * the checkpoint): retract what was published above the common ancestor, at any depth.
   */
  async function repairReorg(): Promise<void> {
    const previous = cursor;
    const windowAncestor = await window.commonAncestor((number) => rpc.blockHash(number));
    const { ancestor, orphaned, deep } = windowAncestor
      ? { ancestor: windowAncestor, orphaned: recent.after(windowAncestor.number), deep: false }
      : { ...(await ancestorInLog()), deep: true };
    const retractions: EventEnvelope[] = orphaned.reverse().map(retractionOf);
    // A deep ancestor may be older than every remembered block: it becomes the window's first.
    const nextWindow = window.truncatedAfter(ancestor.number).with([ancestor]);
    const checkpoint = makeCheckpoint(ancestor, nextWindow, events + retractions.length);
    await publish({ events: retractions, deadLetters: [], checkpoint });
    cursor = ancestor;
    window = nextWindow;
    events = checkpoint.events;
    recent.dropAfter(ancestor.number);
    metrics.reorgs.inc();
    metrics.events.inc({ kind: "retraction" }, retractions.length);
    metrics.indexedBlock.set(ancestor.number);
    lastProgressAt = Date.now();
    logger.warn(
      { ancestor: ancestor.number, from: previous?.number, retracted: retractions.length, deep },
      "reorg repaired: retractions published",
    );
  }

  /**
   * No remembered block is canonical any more: the ancestor is the newest block with published events that
   * the node still holds (a block hash commits to its ancestors), or, when none is, a block below the
   * deployment; what was published above it comes from ingest's own log, since the node cannot give it.
   */
  async function ancestorInLog(): Promise<{ ancestor: BlockRef; orphaned: EventEnvelope[] }> {
    const head = await rpc.blockNumber();
    const floorNumber = Math.max(0, Math.min(contracts.startBlock - 1, head));
    const floorHash = await rpc.blockHash(floorNumber);
    if (!floorHash) throw new RetryableError("The node lost a block below its head.");
    let ancestor: BlockRef = { number: floorNumber, hash: floorHash };
    const tail = await readPublishedUntil(kafka, admin, topics.events, chainId, async (candidate) => {
      ancestor = (await newestCanonical(candidate.blocksAbove(floorNumber))) ?? {
        number: floorNumber,
        hash: floorHash,
      };
      return candidate.covers(ancestor.number);
    });
    const orphaned = new Map<string, EventEnvelope>();
    for (const envelope of [...recent.after(ancestor.number), ...tail.liveAbove(ancestor.number)])
      orphaned.set(envelope.id, envelope);
    const ordered = [...orphaned.values()].sort(
      (a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex,
    );
    return { ancestor, orphaned: ordered };
  }

  /** The first of `blocks` (newest first) that the node holds with the same hash. */
  async function newestCanonical(blocks: readonly BlockRef[]): Promise<BlockRef | undefined> {
    for (let i = 0; i < blocks.length; i += 250) {
      const chunk = blocks.slice(i, i + 250);
      const headers = await rpc.getHeaders(chunk.map((block) => block.number));
      const found = chunk.find((block) => headers.get(block.number)?.hash === block.hash);
      if (found) return found;
    }
    return undefined;
  }

  /** The events ingest published (and did not retract) in `blocks`, read from the events topic. */
  async function publishedIn(blocks: readonly BlockRef[]): Promise<EventEnvelope[]> {
    const below = Math.min(...blocks.map((block) => block.number)) - 1;
    const hashes = new Set(blocks.map((block) => block.hash));
    const tail = await readPublishedUntil(kafka, admin, topics.events, chainId, (candidate) =>
      candidate.covers(below),
    );
    return tail.liveAbove(below).filter((envelope) => hashes.has(envelope.blockHash));
  }

  function makeCheckpoint(block: BlockRef, nextWindow: BlockWindow, total: number): Checkpoint {
    return {
      version: 1,
      chainId,
      contracts: contracts.addresses,
      block,
      window: nextWindow.toJSON(),
      events: total,
    };
  }

  async function publish(batch: PublishBatch): Promise<void> {
    const stopTimer = metrics.transactionSeconds.startTimer();
    await publisher!.publish(batch);
    stopTimer();
  }

  function markSuccess(): void {
    lastSuccessAt = Date.now();
    lastProgressAt = lastSuccessAt; // caught up: nothing to progress to
  }

  function observeHead(number: number): void {
    head = number;
    metrics.headBlock.set(number);
    if (cursor) metrics.lagBlocks.set(Math.max(0, number - cursor.number));
  }

  let stopping: Promise<void> | undefined;
  function stop(): Promise<void> {
    stopping ??= (async () => {
      controller.abort();
      if (state === "running") await done.catch(() => undefined);
      await publisher?.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
      if (state !== "failed") state = "stopped";
      resolveDone();
    })();
    return stopping;
  }

  function status(): IngestStatus {
    return {
      state,
      chainId: chainId || null,
      indexedBlock: cursor?.number ?? null,
      indexedHash: cursor?.hash ?? null,
      headBlock: head,
      events,
      kafkaConnected: publisher?.connected ?? false,
      lastSuccessAt,
      lastProgressAt,
    };
  }

  // One probe at a time, its answer kept for a second: /health may be called often, Kafka may hang.
  let probing: Promise<string | null> | undefined;
  let probed = { at: 0, result: null as string | null };
  function probeKafka(): Promise<string | null> {
    if (Date.now() - probed.at < 1_000) return Promise.resolve(probed.result);
    probing ??= Promise.race([
      admin.fetchTopicOffsets(topics.checkpoints).then(() => null),
      sleep(3_000, signal).then(() => "no answer within 3 s"),
    ])
      .catch((error: unknown) => (error instanceof Error ? error.message : String(error)))
      .then((result) => {
        probed = { at: Date.now(), result };
        probing = undefined;
        return result;
      });
    return probing;
  }

  const health = ingestHealthCheck(status, {
    pollIntervalMs: options.pollIntervalMs,
    confirmations: options.confirmations,
    probeKafka,
  });

  return { start, stop, done, status, health };
}

/** The watched contracts from options: given directly, or read from the deployments file of `chainId`. */
function resolveContracts(source: IngestOptions["contracts"], chainId: number): WatchedContracts {
  if ("addresses" in source) {
    const addresses = source.addresses.map((address) => address.toLowerCase() as typeof address).sort();
    return { addresses, startBlock: source.startBlock };
  }
  try {
    if (!("file" in source)) return watchedContracts(readDeployment(chainId, source.dir));
    const deployment = readDeploymentFile(source.file);
    if (deployment.chainId !== chainId) {
      throw new ConfigError(
        `Deployments file ${source.file} is for chain ${deployment.chainId}, the RPC is chain ${chainId}.`,
      );
    }
    return watchedContracts(deployment);
  } catch (error) {
    if (!(error instanceof DeploymentFileError)) throw error;
    throw new ConfigError(`${error.shortMessage} Set DEPLOYMENT_FILE or DEPLOYMENTS_DIR.`, {
      details: error.details,
      cause: error,
    });
  }
}
