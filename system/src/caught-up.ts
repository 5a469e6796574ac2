// "Caught up": everything on the chain is readable through the gateway. Three facts, checked in order:
//   1. ingest has indexed the chain head (its /metrics: carechain_ingest_indexed_block >= eth_blockNumber);
//   2. the projector reports no lag (its /metrics: carechain_projector_lag is 0 on every partition);
//   3. the projector's committed offsets (in PostgreSQL, with the rows) reach the events topic's end as
//      Kafka reports it now, read after 1: the lag gauge alone may be a few seconds old.
// A transaction's commit marker takes an offset of its own and may be the last one of a partition, which the
// stored offset does not always pass; so a stored offset one short of the end counts as caught up.
import { sleep } from "@carechain/common";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { CatchUpTimeoutError } from "./errors.ts";
import { metricSum, metricValue, scrape } from "./status-line.ts";

export interface CatchUpSources {
  rpcUrl: string;
  ingestMetricsUrl: string;
  projectorMetricsUrl: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  /** The events topic (`<prefix>.events.v1`). */
  topic: string;
  /** PROJECTION_SCHEMA_BASE: the active generation is found in `<base>_meta`. */
  projectionSchemaBase: string;
}

export interface CatchUpState {
  caughtUp: boolean;
  head: number;
  indexed: number | undefined;
  projectorLag: number | undefined;
  /** Per partition: the topic's end and the projector's stored next offset. */
  partitions: { partition: number; high: number; stored: number }[];
  /** Why it is not caught up yet, for the timeout message. */
  waitingFor: string | undefined;
}

export interface CatchUpProbe {
  check(): Promise<CatchUpState>;
  /**
   * Polls `check` until caught up; rejects with CatchUpTimeoutError (what it waited for) after `timeoutMs`.
   * While `paused` names something (services restarting), that time does not count against `timeoutMs`:
   * a brief restart must not fail the start.
   */
  wait(options: {
    timeoutMs: number;
    pollMs?: number;
    signal?: AbortSignal;
    paused?: () => string[];
  }): Promise<CatchUpState>;
  close(): Promise<void>;
}

export function createCatchUpProbe(sources: CatchUpSources): CatchUpProbe {
  const kafka = new Kafka({
    clientId: "carechain-system-catch-up",
    brokers: sources.kafkaBrokers,
    logLevel: logLevel.NOTHING,
  });
  let admin: Promise<ReturnType<Kafka["admin"]>> | undefined;
  const pool = new pg.Pool({
    connectionString: sources.databaseUrl,
    max: 1,
    application_name: "carechain-system",
  });
  pool.on("error", () => {}); // a server going away is reported by the next query

  const getAdmin = () => {
    admin ??= (async () => {
      const client = kafka.admin();
      await client.connect();
      return client;
    })().catch((error: unknown) => {
      admin = undefined;
      throw error;
    });
    return admin;
  };

  async function storedOffsets(): Promise<Map<number, number> | undefined> {
    const meta = pg.escapeIdentifier(`${sources.projectionSchemaBase}_meta`);
    const active = await pool
      .query<{ schema_name: string }>(
        `SELECT schema_name FROM ${meta}.projection_generations WHERE status = 'active' LIMIT 1`,
      )
      .catch(() => undefined);
    const schema = active?.rows[0]?.schema_name;
    if (!schema) return undefined;
    const { rows } = await pool.query<{ partition: number; next_offset: string }>(
      `SELECT partition, next_offset FROM ${pg.escapeIdentifier(schema)}.kafka_offsets WHERE topic = $1`,
      [sources.topic],
    );
    return new Map(rows.map((row) => [row.partition, Number(row.next_offset)]));
  }

  async function check(): Promise<CatchUpState> {
    const head = await blockNumber(sources.rpcUrl);
    const state: CatchUpState = {
      caughtUp: false,
      head,
      indexed: undefined,
      projectorLag: undefined,
      partitions: [],
      waitingFor: undefined,
    };
    const [ingest, projector] = await Promise.all([
      scrape(sources.ingestMetricsUrl),
      scrape(sources.projectorMetricsUrl),
    ]);
    state.indexed = ingest && metricValue(ingest, "carechain_ingest_indexed_block");
    state.projectorLag = projector && metricSum(projector, "carechain_projector_lag");
    if (state.indexed === undefined || state.indexed < head) {
      state.waitingFor = `ingest to index block ${head} (indexed: ${state.indexed ?? "?"})`;
      return state;
    }
    if (state.projectorLag !== undefined && state.projectorLag > 0) {
      state.waitingFor = `the projector to apply ${state.projectorLag} more message(s)`;
      return state;
    }
    const offsets = await (await getAdmin()).fetchTopicOffsets(sources.topic);
    const stored = await storedOffsets();
    if (!stored) {
      state.waitingFor = "the projector to create its schemas";
      return state;
    }
    state.partitions = offsets.map(({ partition, high, low }) => ({
      partition,
      high: Number(high),
      stored: Math.max(stored.get(partition) ?? 0, Number(low)),
    }));
    const behind = state.partitions.filter((p) => p.stored < p.high - 1);
    if (behind.length > 0) {
      state.waitingFor = `the projector to reach the end of ${sources.topic} (${behind
        .map((p) => `partition ${p.partition}: ${p.stored} of ${p.high}`)
        .join(", ")})`;
      return state;
    }
    state.caughtUp = true;
    return state;
  }

  return {
    check,
    async wait({ timeoutMs, pollMs = 250, signal, paused }) {
      let deadline = Date.now() + timeoutMs;
      let last: CatchUpState | undefined;
      let lastError: unknown;
      let polledAt = Date.now();
      for (;;) {
        signal?.throwIfAborted();
        try {
          last = await check();
          if (last.caughtUp) return last;
        } catch (error) {
          lastError = error;
        }
        const restarting = paused?.() ?? [];
        const now = Date.now();
        if (restarting.length > 0) {
          deadline += now - polledAt;
          if (last) last.waitingFor = `${restarting.join(", ")} to come back (restarting)`;
        }
        polledAt = now;
        if (now > deadline) {
          const why =
            last?.waitingFor ?? (lastError instanceof Error ? lastError.message : String(lastError));
          throw new CatchUpTimeoutError(`The projections did not catch up within ${timeoutMs / 1000} s.`, {
            details: `still waiting for ${why}`,
          });
        }
        await sleep(pollMs, signal);
      }
    },
    async close() {
      const client = await admin?.catch(() => undefined);
      await client?.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

export async function blockNumber(rpcUrl: string, timeoutMs = 5_000): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json()) as { result?: string; error?: { message: string } };
  if (typeof body.result !== "string") throw new Error(body.error?.message ?? "no eth_blockNumber result");
  return Number(BigInt(body.result));
}
