/**
 * Entry point: parses the configuration (the only place that reads process.env) and starts the gateway,
 * one subgraph, or everything in one process.
 *
 *   tsx graphql-gateway/src/main.ts [all|gateway|identity|records|vitals]    (default: all)
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  type Common,
  ConfigError,
  createCommon,
  type HealthCheck,
  runMain,
  startHealthServer,
} from "@carechain/common";
import { type BlobStore, openBlobStore } from "@carechain/documents";
import { createAuditLog } from "./audit/audit-log.ts";
import { optionsFromEnv } from "./config.ts";
import { migrateGatewaySchema } from "./database/migrate.ts";
import { createDatabase } from "./database/pool.ts";
import { type AnswerCache, createAnswerCache } from "./gateway/answer-cache.ts";
import { type LocalSubgraph, startGateway } from "./gateway/server.ts";
import { gatewayMetrics } from "./metrics.ts";
import type { GatewayOptions, SubgraphName } from "./options.ts";
import { startSubgraphs } from "./subgraphs/index.ts";

type Mode = "all" | "gateway" | SubgraphName;

async function readSupergraph(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(`No supergraph at ${path}.`, {
      details: "Run `npm run build -w @carechain/gateway` (composes it) or set SUPERGRAPH_PATH.",
      cause: error,
    });
  }
}

async function run(mode: Mode, common: Common<GatewayOptions>): Promise<void> {
  const { options, shutdown } = common;
  const metrics = gatewayMetrics(common.metrics);
  const db = createDatabase({
    url: options.databaseUrl,
    projectionSchema: options.projectionSchema,
    gatewaySchema: options.gatewaySchema,
    applicationName: `carechain-gateway-${mode}`,
  });
  shutdown.add("database", () => db.close());
  // Every process writes the audit log and the identity subgraph reads it: whoever starts first migrates.
  await migrateGatewaySchema(db);
  const audit = createAuditLog({ db, logger: common.logger, metrics, owner: mode, ...options.audit });
  // Registered before the servers, so it runs after them: the last reads are flushed.
  shutdown.add("audit log", () => audit.stop());

  const checks: Record<string, HealthCheck> = {
    database: async () => {
      await db.query("SELECT 1");
      return { ok: true };
    },
  };
  let subgraphUrls: Record<string, string> = {};
  let localSubgraphs: Record<string, LocalSubgraph> = {};
  let answers: AnswerCache | undefined;
  if (mode !== "gateway") {
    const names: SubgraphName[] = mode === "all" ? ["identity", "records", "vitals"] : [mode];
    // Beside the gateway, the subgraphs' audit entries reach the answer cache too (gateway/answer-cache.ts).
    answers =
      mode === "all" ? createAnswerCache({ db, audit, settings: options.answerCache, metrics }) : undefined;
    const running = await startSubgraphs(common, {
      db,
      audit: answers ? answers.capturingSink(audit) : audit,
      names,
    });
    subgraphUrls = running.urls;
    // Beside the gateway ("all"), asked in process; still served on their ports for other gateways.
    localSubgraphs = Object.fromEntries(
      running.subgraphs.map((subgraph) => [subgraph.name, subgraph.execute]),
    );
    shutdown.add("subgraphs", () => running.close());
  }
  if (mode === "all" || mode === "gateway") {
    const supergraphSdl = await readSupergraph(options.supergraphPath);
    let documents: { store: BlobStore; maxBytes: number } | undefined;
    if (options.documents) {
      const opened = await openBlobStore(options.documents.store);
      shutdown.add("document store", async () => opened.close());
      documents = { store: opened.store, maxBytes: options.documents.maxBytes };
      checks.documents = async () => {
        await opened.check();
        return { ok: true };
      };
      common.logger.info({ store: opened.description }, "documents: endpoints on");
    } else {
      common.logger.warn("documents: endpoints off (set DOCUMENTS_DIR, or S3_BUCKET for an S3 store)");
    }
    const gateway = await startGateway(common, {
      db,
      supergraphSdl,
      subgraphUrls,
      localSubgraphs,
      subscriptions: true,
      audit,
      documents,
      answers,
    });
    shutdown.add("gateway", () => gateway.stop());
    Object.assign(checks, gateway.checks);
  }
  // Metrics (operation names, error codes, sign-in failures, queue depths) and the detailed health go to
  // operators only: their own port, on 127.0.0.1 unless METRICS_HOST says otherwise, as ingest and the
  // projector serve theirs. The public port keeps a bare /health.
  if (options.metrics) {
    const operator = await startHealthServer({ ...options.metrics, metrics: common.metrics, checks });
    shutdown.add("health server", operator.close);
    common.logger.info({ url: operator.url }, "health and metrics server listening");
  }
}

const modes: readonly Mode[] = ["all", "gateway", "identity", "records", "vitals"];

runMain(
  async (ctx) => {
    const usage = `Usage: main.ts [${modes.join("|")}]`;
    let positionals: string[];
    try {
      ({ positionals } = parseArgs({ args: ctx.argv, allowPositionals: true }));
    } catch (error) {
      throw new ConfigError(`${(error as Error).message}. ${usage}`);
    }
    const mode = (positionals[0] ?? "all") as Mode;
    if (!modes.includes(mode) || positionals.length > 1) throw new ConfigError(usage);
    const { logLevel, ...options } = optionsFromEnv(ctx.env);
    // @apollo/gateway reads this itself: no usage telemetry to Apollo, no cloud metadata probes.
    process.env.APOLLO_TELEMETRY_DISABLED ??= "true";
    const common = createCommon<GatewayOptions>(`gateway-${mode}`, options, { logLevel });
    ctx.onStop((reason) => common.shutdown.run(reason));
    await run(mode, common);
  },
  { entry: import.meta.url },
);
