/**
 * The federation runtime, compared in one run (issue 16): the same subgraphs (HTTP servers in a child
 * process: the split deployment), the same composed supergraph, two gateways in front of them in this
 * process:
 *   (a) Apollo: our gateway as `main.ts gateway` serves it (`startGateway`, subgraphs over HTTP, no answer
 *       cache: the runtimes are compared, not the cache);
 *   (b) Hive: `createGatewayRuntime` of @graphql-hive/gateway-runtime with the same supergraph SDL, the same
 *       bearer token check and viewer, and the same signed viewer context on every subgraph fetch, so that
 *       the subgraphs' permission checks and audit run identically.
 * It first checks that both give the same answer to PatientFetch and DoctorFetch as a granted doctor (the
 * bench fails otherwise), then loads them alternately, a fixed number in flight, and prints per runtime:
 * req/s, p50/p95/p99 ms, CPU-ms per request of this process (the gateways only: the subgraphs and the load
 * generator run in the child) and of the child, and the load average beside.
 *
 *   npx vitest bench --run graphql-gateway/src/gateway/runtime.bench.ts
 *   RUNTIME_BENCH_REQUESTS=4000 RUNTIME_BENCH_PROFILE=/tmp/profiles npx vitest bench --run ...
 */
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { Session } from "node:inspector/promises";
import { loadavg } from "node:os";
import { isDeepStrictEqual } from "node:util";
import type { Common } from "@carechain/common";
import { createGatewayRuntime, type GatewayPlugin } from "@graphql-hive/gateway-runtime";
import type { GraphQLError } from "graphql";
import { afterAll, beforeAll, bench, describe } from "vitest";
import { z } from "zod";
import { requestIdFrom } from "../audit/audit-log.ts";
import { bearerToken, verifyAccessToken } from "../auth/jwt.ts";
import { anonymousViewer, loadViewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { UnauthenticatedError } from "../errors.ts";
import { closeServer, listen } from "../http.ts";
import { DoctorFetch, PatientFetch } from "../operations.ts";
import type { GatewayOptions } from "../options.ts";
import { ourSubgraphs } from "../subgraphs/index.ts";
import { createTestGateway, newAccount, type TestGateway, type World } from "../testing/index.ts";
import { composeSupergraph } from "./compose.ts";
import { defaultRateLimits } from "./rate-limit.ts";
import type { LoadReport, LoadRequest, SubgraphsStarted } from "./runtime-bench-subgraphs.ts";
import { formatGatewayError, type RunningGateway, startGateway } from "./server.ts";
import { signViewerContext, type ViewerContext, viewerContextHeader } from "./viewer-context.ts";

const settings = z
  .object({
    RUNTIME_BENCH_REQUESTS: z.coerce.number().int().positive().default(2_000),
    RUNTIME_BENCH_CONCURRENCY: z.coerce.number().int().positive().default(16),
    RUNTIME_BENCH_ROUNDS: z.coerce.number().int().positive().default(2),
    /** A directory: CPU profiles (.cpuprofile) of this process, one per runtime and operation, last round. */
    RUNTIME_BENCH_PROFILE: z.string().min(1).optional(),
  })
  .parse(process.env);

/** Patients who granted the doctor access: the world's one plus these, as a doctor's home screen lists. */
const extraPatients = 19;

type Runtime = { name: string; graphqlUrl: string };

let harness: TestGateway;
let world: World;
let subgraphs: ChildProcess;
let apollo: RunningGateway;
let hiveServer: Server;
let runtimes: Runtime[];

/**
 * What our gateway does per request before the subgraphs (server.ts `authenticate`, `contextFor`) and per
 * subgraph fetch (`ViewerContextDataSource`), as a Hive plugin: the bearer token verified, the viewer loaded
 * from the projections, a request id, and the viewer context signed for each subgraph request's own body.
 */
function viewerContextPlugin(common: Common<GatewayOptions>, db: Database): GatewayPlugin {
  const { options, logger } = common;
  return {
    async onContextBuilding({ context, extendContext }) {
      const token = bearerToken(context.request.headers.get("authorization"));
      let viewer = anonymousViewer;
      if (token) {
        try {
          const { address } = await verifyAccessToken({
            secret: options.jwtSecret,
            token,
            issuer: options.siweDomain,
          });
          viewer = await loadViewer(db, address);
        } catch (error) {
          if (!(error instanceof UnauthenticatedError)) throw error;
        }
      }
      const requestId = requestIdFrom(context.request.headers.get("x-request-id"), randomUUID);
      extendContext({ carechain: { viewer, requestId } satisfies ViewerContext });
    },
    // The same error shape as ours (a code and a message; no `serviceName`, internal errors hidden).
    onExecutionResult({ result, setResult }) {
      if (!result || !("errors" in result) || !result.errors?.length) return;
      const errors = result.errors.map((error) => formatGatewayError(error.toJSON(), error, logger));
      setResult({ ...result, errors: errors as unknown as GraphQLError[] });
    },
    async onFetch({ context, options: init, setOptions }) {
      const viewerContext = (context as { carechain?: ViewerContext }).carechain;
      if (!viewerContext || typeof init.body !== "string") return;
      // Signed for the body as sent (query text, operation name, variables), as the subgraph checks it.
      const header = await signViewerContext(options.subgraphSecret, viewerContext, JSON.parse(init.body));
      setOptions({
        ...init,
        headers: { ...(init.headers as Record<string, string>), [viewerContextHeader]: header },
      });
    },
  };
}

function startHive(common: Common<GatewayOptions>, db: Database, supergraphSdl: string): Server {
  const runtime = createGatewayRuntime({
    supergraph: supergraphSdl,
    logging: false,
    landingPage: false,
    graphiql: false,
    // Errors formatted by ours instead (below), as Apollo Server's formatError does in server.ts.
    maskedErrors: false,
    // Off, or the permission check and the audit are skipped: by default identical subgraph requests in
    // flight share one fetch, keyed by URL and body only (our viewer header is added after, in onFetch), so
    // a second viewer asking the same (a doctor, the same patient) would get the first one's answer,
    // unchecked and unaudited.
    transportEntries: { "*.http": { options: { deduplicateInflightRequests: false } } },
    plugins: () => [viewerContextPlugin(common, db)],
  });
  const server = createServer(runtime);
  server.on("close", () => void runtime.dispose());
  return server;
}

/** Asks the subgraphs' process for something and waits for its one answer (or its exit). */
async function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  const done = new AbortController();
  try {
    const answer = once(child, "message", { signal: done.signal }) as Promise<[T]>;
    const exit = once(child, "exit", { signal: done.signal }).then(([code]) => {
      throw new Error(`the subgraphs' process exited (${code})`);
    });
    // The loser is rejected by the abort below: not an unhandled rejection.
    for (const pending of [answer, exit]) pending.catch(() => {});
    child.send(message as object);
    const [reply] = await Promise.race([answer, exit]);
    return reply;
  } finally {
    // Both listeners go: one `ask` per measurement would otherwise pile them up on the child.
    done.abort();
  }
}

const doctorRequest = () => ({
  query: DoctorFetch,
  operationName: "DoctorFetch",
  variables: { address: world.grantedDoctor.address },
});
const patientRequest = () => ({
  query: PatientFetch,
  operationName: "PatientFetch",
  variables: { address: world.patient.address },
});

async function post(url: string, body: object, token: string): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

const auditRows = async () =>
  Number(
    (await harness.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${harness.db.gateway}.audit_log`))[0]!
      .n,
  );

/** Audit entries one request of each operation stores (the same through both runtimes: checked). */
const auditPerRequest = new Map<string, number>();

/** Both runtimes answer alike and audit alike, or the bench stops here. */
async function checkSameAnswers(): Promise<void> {
  const token = world.grantedDoctor.token;
  for (const [name, body] of [
    ["PatientFetch", patientRequest()],
    ["DoctorFetch", doctorRequest()],
  ] as const) {
    for (const runtime of runtimes) {
      const before = await auditRows();
      await post(runtime.graphqlUrl, body, token);
      const rows = (await auditRows()) - before;
      if (rows === 0 || (auditPerRequest.get(name) ?? rows) !== rows) {
        throw new Error(
          `${name}: ${runtime.name} stored ${rows} audit entries, not ${auditPerRequest.get(name)}`,
        );
      }
      auditPerRequest.set(name, rows);
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const [a, b] = await Promise.all(runtimes.map((runtime) => post(runtime.graphqlUrl, body, token)));
      if (!isDeepStrictEqual(a, b)) {
        throw new Error(
          `${name}: the runtimes answer differently\n${runtimes[0]!.name}: ${JSON.stringify(a)}\n${runtimes[1]!.name}: ${JSON.stringify(b)}`,
        );
      }
      const data = (a as { body: { data?: Record<string, unknown> } }).body.data;
      if (!data?.patient && !data?.doctor) throw new Error(`${name}: no data: ${JSON.stringify(a)}`);
    }
  }
  const doctor = (
    (await post(runtimes[0]!.graphqlUrl, doctorRequest(), token)) as {
      body: { data: { doctor: { patients: unknown[] } } };
    }
  ).body.data.doctor;
  console.log(
    `same answers from both runtimes; DoctorFetch lists ${doctor.patients.length} patients; audit entries per request: ${JSON.stringify(Object.fromEntries(auditPerRequest))}`,
  );
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

type Measured = {
  runtime: string;
  operation: string;
  round: number;
  load: number;
  report: LoadReport;
  gatewayCpuMs: number;
};

async function measure(
  runtime: Runtime,
  [operation, body]: readonly [string, object],
  { round, requests, profile }: { round: number; requests: number; profile: boolean },
): Promise<Measured> {
  const load = loadavg()[0]!;
  const session = profile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 500 });
    await session.post("Profiler.start");
  }
  const auditBefore = await auditRows();
  const before = process.cpuUsage();
  const report = await ask<LoadReport>(subgraphs, {
    kind: "load",
    url: runtime.graphqlUrl,
    body: JSON.stringify(body),
    token: world.grantedDoctor.token,
    requests,
    concurrency: settings.RUNTIME_BENCH_CONCURRENCY,
  } satisfies LoadRequest);
  const gatewayCpuMs = cpuMs(process.cpuUsage(before));
  // Every request checked and audited on its own (no answer shared between requests).
  const audited = (await auditRows()) - auditBefore;
  if (audited !== requests * auditPerRequest.get(operation)!) {
    throw new Error(`${runtime.name} ${operation}: ${audited} audit entries for ${requests} requests`);
  }
  if (session && settings.RUNTIME_BENCH_PROFILE) {
    const { profile: cpuProfile } = await session.post("Profiler.stop");
    session.disconnect();
    await mkdir(settings.RUNTIME_BENCH_PROFILE, { recursive: true });
    await writeFile(
      `${settings.RUNTIME_BENCH_PROFILE}/${runtime.name}-${operation}.cpuprofile`,
      JSON.stringify(cpuProfile),
    );
  }
  if (report.failures > 0)
    throw new Error(`${runtime.name} ${operation}: ${report.failures} failed: ${report.firstFailure}`);
  return { runtime: runtime.name, operation, round, load, report, gatewayCpuMs } satisfies Measured;
}

function printTable(rows: Measured[]): void {
  const lines = [
    `${settings.RUNTIME_BENCH_CONCURRENCY} in flight, ${settings.RUNTIME_BENCH_REQUESTS} requests per runtime and operation in ${settings.RUNTIME_BENCH_ROUNDS} alternating rounds`,
    "gateway CPU: this process (both gateways, idle one included); child CPU: subgraphs + load generator",
    "runtime  operation     round  load1   req/s   p50 ms  p95 ms  p99 ms  gateway CPU-ms/req  child CPU-ms/req  subgraph fetches/req",
  ];
  for (const row of rows) {
    const sorted = [...row.report.latenciesMs].sort((x, y) => x - y);
    const n = sorted.length;
    lines.push(
      [
        row.runtime.padEnd(8),
        row.operation.padEnd(13),
        String(row.round).padStart(5),
        row.load.toFixed(2).padStart(6),
        ((n / row.report.elapsedMs) * 1000).toFixed(1).padStart(7),
        quantile(sorted, 0.5).toFixed(1).padStart(8),
        quantile(sorted, 0.95).toFixed(1).padStart(7),
        quantile(sorted, 0.99).toFixed(1).padStart(7),
        (row.gatewayCpuMs / n).toFixed(2).padStart(19),
        (row.report.cpuMs / n).toFixed(2).padStart(17),
        (row.report.subgraphFetches / n).toFixed(2).padStart(21),
      ].join(" "),
    );
  }
  console.log(lines.join("\n"));
}

beforeAll(async () => {
  // Rate limits off: one doctor's token sends every request, far above a person's rate.
  harness = await createTestGateway({
    answerCache: false,
    limits: { rates: { ...defaultRateLimits, graphqlPerAccount: null, graphqlPerAddress: null } },
  });
  world = await harness.createWorld();
  const { fixtures } = harness;
  const now = Date.now();
  for (let index = 0; index < extraPatients; index++) {
    const patient = await fixtures.patient(newAccount().address, { block: 300 + index });
    await fixtures.grant({ patient, grantee: world.grantedDoctor.address, scopes: 7, block: 300 + index });
    await fixtures.reading({
      patient,
      measuredAt: new Date(now - (index + 1) * 60_000),
      systolic: 110 + index,
      diastolic: 70 + (index % 10),
      block: 300 + index,
    });
  }

  subgraphs = fork(new URL("./runtime-bench-subgraphs.ts", import.meta.url), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const { urls } = await ask<SubgraphsStarted>(subgraphs, { kind: "start", options: harness.common.options });
  const supergraphSdl = composeSupergraph(
    Object.values(ourSubgraphs).map((definition) => ({
      name: definition.name,
      typeDefs: definition.typeDefs,
      url: urls[definition.name]!,
    })),
  );
  apollo = await startGateway(harness.common, {
    db: harness.db,
    supergraphSdl,
    subscriptions: false,
    audit: harness.audit,
  });
  hiveServer = startHive(harness.common, harness.db, supergraphSdl);
  const hiveUrl = await listen(hiveServer, 0, "127.0.0.1");
  runtimes = [
    { name: "apollo", graphqlUrl: apollo.graphqlUrl },
    { name: "hive", graphqlUrl: `${hiveUrl}/graphql` },
  ];
  await checkSameAnswers();

  const work = [
    ["PatientFetch", patientRequest()],
    ["DoctorFetch", doctorRequest()],
  ] as const;
  // Warm-up (not counted): JIT, pools and plan caches of both gateways and of the subgraphs.
  const warmupRequests = Math.min(200, Math.ceil(settings.RUNTIME_BENCH_REQUESTS / 10));
  for (const runtime of runtimes) {
    for (const operation of work) {
      await measure(runtime, operation, { round: 0, requests: warmupRequests, profile: false });
    }
  }
  const rows: Measured[] = [];
  for (let round = 1; round <= settings.RUNTIME_BENCH_ROUNDS; round++) {
    const last = round === settings.RUNTIME_BENCH_ROUNDS;
    for (const operation of work) {
      // Alternating, and the other way round in every other round: neither always goes first.
      const order = round % 2 === 1 ? runtimes : [...runtimes].reverse();
      for (const runtime of order) {
        rows.push(
          await measure(runtime, operation, {
            round,
            requests: Math.ceil(settings.RUNTIME_BENCH_REQUESTS / settings.RUNTIME_BENCH_ROUNDS),
            profile: last && !!settings.RUNTIME_BENCH_PROFILE,
          }),
        );
      }
    }
  }
  printTable(rows);
}, 60 * 60_000);

afterAll(async () => {
  if (hiveServer) await closeServer(hiveServer);
  await apollo?.stop();
  if (subgraphs?.connected) {
    const exited = once(subgraphs, "exit");
    subgraphs.disconnect();
    await exited;
  }
  await harness?.stop();
});

describe("one DoctorFetch at a time, as the granted doctor", () => {
  for (const name of ["apollo", "hive"]) {
    bench(
      name,
      async () => {
        const url = runtimes.find((runtime) => runtime.name === name)!.graphqlUrl;
        await post(url, doctorRequest(), world.grantedDoctor.token);
      },
      { time: 3_000, warmupTime: 500 },
    );
  }
});
