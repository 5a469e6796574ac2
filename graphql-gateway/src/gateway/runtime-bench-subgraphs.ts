/**
 * The subgraphs of runtime.bench.ts and its load generator, in a process of their own (the split
 * deployment), so that the bench process's CPU is the gateways' alone. Started by the bench with `fork`:
 * `start` (the gateway's options: database, schemas, secret) answers the subgraphs' URLs; each `load` sends
 * requests to a gateway, a fixed number in flight, and answers their latencies. Not a service: `main.ts
 * identity|records|vitals` is the real one, one subgraph per process.
 */
import { createCommon, createSilentLogger } from "@carechain/common";
import { z } from "zod";
import { createAuditLog } from "../audit/audit-log.ts";
import { migrateGatewaySchema } from "../database/migrate.ts";
import { createDatabase } from "../database/pool.ts";
import { gatewayMetrics } from "../metrics.ts";
import type { GatewayOptions } from "../options.ts";
import { startSubgraphs } from "../subgraphs/index.ts";

/** What the bench sends: its GatewayOptions (the fields used here are checked), then loads to run. */
const messageSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("start"),
    options: z.looseObject({
      databaseUrl: z.string().min(1),
      projectionSchema: z.string().min(1),
      gatewaySchema: z.string().min(1),
      subgraphSecret: z.string().min(32),
      subgraphHost: z.string().min(1),
    }),
  }),
  z.object({
    kind: z.literal("load"),
    url: z.url(),
    body: z.string(),
    token: z.string(),
    requests: z.number().int().positive(),
    concurrency: z.number().int().positive(),
  }),
]);

export type SubgraphsStarted = { urls: Record<string, string>; pid: number };
export type LoadRequest = Extract<z.infer<typeof messageSchema>, { kind: "load" }>;
/** Latencies in order of completion; `cpuMs`: this process's (subgraphs and load generator) meanwhile. */
export type LoadReport = {
  latenciesMs: number[];
  /** Requests the subgraphs accepted meanwhile (a signed viewer context each). */
  subgraphFetches: number;
  elapsedMs: number;
  cpuMs: number;
  failures: number;
  firstFailure?: string;
};

process.on("message", (raw) => {
  const message = messageSchema.parse(raw);
  const done =
    message.kind === "start" ? start(message.options as unknown as GatewayOptions) : runLoad(message);
  void done.then(
    (reply) => process.send?.(reply),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});

/**
 * `requests` POSTs of the same body, `concurrency` in flight. A request fails unless it is a 200 with
 * data and no error other than FORBIDDEN (PatientFetch as a doctor: `grants` is the patient's own).
 */
async function runLoad(load: LoadRequest): Promise<LoadReport> {
  const fetchesBefore = await acceptedFetches();
  const latenciesMs: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let sent = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (sent < load.requests) {
      sent++;
      const begun = performance.now();
      const response = await fetch(load.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${load.token}` },
        body: load.body,
      });
      const text = await response.text();
      latenciesMs.push(performance.now() - begun);
      const result = JSON.parse(text) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
      const ok =
        response.status === 200 &&
        !!result.data &&
        (result.errors ?? []).every((error) => error.extensions?.code === "FORBIDDEN");
      if (!ok) {
        failures++;
        firstFailure ??= `${response.status} ${text.slice(0, 500)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    latenciesMs,
    subgraphFetches: (await acceptedFetches()) - fetchesBefore,
    elapsedMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

/** The subgraphs' count of accepted requests (`carechain_subgraph_requests_total`), once started. */
let acceptedFetches = async () => 0;

async function start(options: GatewayOptions): Promise<SubgraphsStarted> {
  const common = createCommon("runtime-bench-subgraphs", options, { logger: createSilentLogger() });
  const counter = gatewayMetrics(common.metrics).subgraphRequests;
  acceptedFetches = async () =>
    (await counter.get()).values
      .filter((value) => value.labels.outcome === "accepted")
      .reduce((sum, value) => sum + value.value, 0);
  const db = createDatabase({
    url: options.databaseUrl,
    projectionSchema: options.projectionSchema,
    gatewaySchema: options.gatewaySchema,
    applicationName: "carechain-runtime-bench-subgraphs",
  });
  await migrateGatewaySchema(db);
  const audit = createAuditLog({
    db,
    logger: common.logger,
    metrics: gatewayMetrics(common.metrics),
    owner: "subgraphs",
    ...options.audit,
  });
  const running = await startSubgraphs(common, { db, audit, ports: { identity: 0, records: 0, vitals: 0 } });
  const stop = async () => {
    await running.close();
    await audit.stop();
    await db.close();
    process.exit(0);
  };
  // The bench disconnects when done (or dies): nothing of this process may outlive it.
  process.once("disconnect", () => void stop());
  return { urls: running.urls, pid: process.pid };
}
