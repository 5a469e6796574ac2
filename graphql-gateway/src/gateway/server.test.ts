import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DoctorFetch, PatientFetch } from "../operations.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/index.ts";
import { type RunningGateway, startGateway, subgraphFetcher } from "./server.ts";
import { signViewerContext, viewerContextHeader } from "./viewer-context.ts";

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway();
  world = await harness.createWorld();
});

afterAll(async () => {
  await harness?.stop();
});

describe("gateway", () => {
  test("default", async () => {
    const result = await harness.query<{ patient: Record<string, unknown> }>(PatientFetch, {
      token: world.patient.token,
      variables: { address: world.patient.address },
      operationName: "PatientFetch",
    });
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    const patient = result.data!.patient;
    expect(patient).toMatchObject({
      address: world.patient.address,
      profileHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      registeredAt: harness.fixtures.blockTime(1).toISOString(),
      grants: [
        {
          grantee: world.grantedDoctor.address,
          granteeRole: "DOCTOR",
          scopes: ["READ_RECORDS", "WRITE_RECORDS", "READ_VITALS"],
          expiresAt: null,
        },
        {
          grantee: world.insurer.address,
          granteeRole: "ORGANIZATION",
          scopes: ["READ_RECORDS"],
          expiresAt: expect.any(String),
        },
      ],
      latestVitals: {
        measuredAt: world.data.readings[0]!.measuredAt.toISOString(),
        systolic: world.data.readings[0]!.systolic,
        diastolic: world.data.readings[0]!.diastolic,
      },
    });
    const records = patient.records as { edges: { node: Record<string, unknown> }[]; pageInfo: unknown };
    expect(records.edges.map((edge) => [edge.node.id, edge.node.type, edge.node.version])).toEqual([
      [world.data.latestRecords[0]!.recordId, "PATIENT_UPLOAD", 1],
      [world.data.latestRecords[1]!.recordId, "CONSULTATION_NOTE", 2],
      [world.data.latestRecords[2]!.recordId, "PRESCRIPTION", 1],
      [world.data.latestRecords[3]!.recordId, "LAB_RESULT", 1],
    ]);
    expect(records.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });

    const doctor = await harness.query<{ doctor: Record<string, unknown> }>(DoctorFetch, {
      token: world.grantedDoctor.token,
      variables: { address: world.grantedDoctor.address },
    });
    expect(doctor.errors).toBeUndefined();
    expect(doctor.data!.doctor).toMatchObject({
      address: world.grantedDoctor.address,
      verified: true,
      registeredAt: harness.fixtures.blockTime(3).toISOString(),
      patients: [
        {
          address: world.patient.address,
          profileHash: patient.profileHash,
          latestVitals: {
            systolic: world.data.readings[0]!.systolic,
            diastolic: world.data.readings[0]!.diastolic,
            measuredAt: expect.any(String),
          },
        },
      ],
    });
  });

  test("behavior: PatientFetch as a narrow grantee returns what it may read and FORBIDDEN for the rest", async () => {
    const result = await harness.query<{ patient: Record<string, unknown> }>(PatientFetch, {
      token: world.insurer.token,
      variables: { address: world.patient.address },
    });
    expect(result.data!.patient.grants).toBeNull();
    expect(result.data!.patient.latestVitals).toBeNull();
    expect((result.data!.patient.records as { edges: unknown[] }).edges).toHaveLength(4);
    expect(result.errors?.map((error) => [error.path?.join("."), error.extensions?.code]).sort()).toEqual([
      ["patient.grants", "FORBIDDEN"],
      ["patient.latestVitals", "FORBIDDEN"],
    ]);
  });

  test("behavior: health and Prometheus metrics, the metrics not on the public port", async () => {
    const health = await fetch(`${harness.gateway.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    await harness.query(
      `query Broken { patient(address: "0x0000000000000000000000000000000000000001") { address } }`,
    );
    // Operation names, error codes and sign-in failures are for operators: main.ts serves them on the
    // operator port (main.test.ts); the public port answers 404.
    const publicMetrics = await fetch(`${harness.gateway.url}/metrics`);
    expect(publicMetrics.status).toBe(404);
    expect(await publicMetrics.text()).not.toMatch(/carechain_/);
    const metrics = await harness.common.metrics.text();
    expect(metrics).toMatch(/carechain_gateway_requests_total\{[^}]*operation="PatientFetch"[^}]*\} \d+/);
    expect(metrics).toMatch(/carechain_gateway_request_duration_seconds_count\{[^}]*operation="DoctorFetch"/);
    expect(metrics).toMatch(/carechain_gateway_errors_total\{[^}]*code="FORBIDDEN"[^}]*\} \d+/);
    expect(metrics).toMatch(/carechain_gateway_audit_queue_depth/);
    expect(metrics).toMatch(/carechain_gateway_subscriptions/);
  });

  test("error: subgraphs refuse requests without the gateway's signed viewer context", async () => {
    const identity = harness.subgraphs.find((subgraph) => subgraph.name === "identity")!;
    const request = { query: "{ doctors { edges { node { address } } } }" };
    const ask = (headers: Record<string, string>) =>
      fetch(identity.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(request),
      });
    const missing = await ask({});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
    const forged = await signViewerContext(
      "not the gateway's secret, but long enough",
      {
        viewer: {
          kind: "account",
          address: world.patient.address,
          role: "patient",
          organizationKind: null,
          verified: null,
        },
        requestId: "forged",
      },
      request,
    );
    const bad = await ask({ [viewerContextHeader]: forged });
    expect(bad.status).toBe(403);
    expect(await bad.json()).toMatchObject({ errors: [{ extensions: { code: "FORBIDDEN" } }] });
    const signed = await signViewerContext(
      harness.common.options.subgraphSecret,
      { viewer: { kind: "anonymous" }, requestId: "direct" },
      request,
    );
    const good = await ask({ [viewerContextHeader]: signed });
    expect(good.status).toBe(200);
  });
});

describe("subgraphs in the gateway's process", () => {
  let local: RunningGateway;

  beforeAll(async () => {
    local = await startGateway(harness.common, {
      db: harness.db,
      supergraphSdl: harness.supergraphSdl,
      localSubgraphs: Object.fromEntries(
        harness.subgraphs.map((subgraph) => [subgraph.name, subgraph.execute]),
      ),
      subscriptions: false,
      audit: harness.audit,
      port: 0,
    });
  });

  afterAll(async () => {
    await local?.stop();
  });

  const ask = async (url: string, query: string, token: string, address: string, requestId: string) => {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${token}`,
        "x-request-id": requestId,
      },
      body: JSON.stringify({ query, variables: { address } }),
    });
    const body = (await response.json()) as {
      data?: unknown;
      errors?: { path?: unknown; extensions?: unknown }[];
    };
    const audited = await harness.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${harness.db.gateway}.audit_log WHERE request_id = $1`,
      [requestId],
    );
    return {
      status: response.status,
      data: body.data,
      errors: body.errors?.map((error) => [error.path, error.extensions]),
      audited: audited[0]!.n,
    };
  };

  test("behavior: same answers, refusals and audit entries as over HTTP", async () => {
    const cases = [
      [PatientFetch, world.patient, world.patient.address],
      [PatientFetch, world.grantedDoctor, world.patient.address],
      [PatientFetch, world.insurer, world.patient.address],
      [PatientFetch, world.revokedDoctor, world.patient.address],
      [DoctorFetch, world.grantedDoctor, world.grantedDoctor.address],
    ] as const;
    for (const [index, [query, viewer, address]] of cases.entries()) {
      const overHttp = await ask(harness.gateway.graphqlUrl, query, viewer.token, address, `http-${index}`);
      const inProcess = await ask(local.graphqlUrl, query, viewer.token, address, `local-${index}`);
      expect(inProcess).toEqual(overHttp);
    }
  });

  test("error: a subgraph asked in process still needs the gateway's signed viewer context", async () => {
    const identity = harness.subgraphs.find((subgraph) => subgraph.name === "identity")!;
    const body = { query: "{ doctors { edges { node { address } } } }" };
    const missing = await identity.execute({ header: undefined, body });
    expect(missing).toMatchObject({
      status: 401,
      result: { errors: [{ extensions: { code: "UNAUTHENTICATED" } }] },
    });
    const otherRequest = await signViewerContext(
      harness.common.options.subgraphSecret,
      { viewer: { kind: "anonymous" }, requestId: "direct" },
      { query: "{ doctors { edges { node { verified } } } }" },
    );
    const replayed = await identity.execute({ header: otherRequest, body });
    expect(replayed).toMatchObject({
      status: 403,
      result: { errors: [{ extensions: { code: "FORBIDDEN" } }] },
    });
  });
});

describe("limits", () => {
  const code = async (query: string, variables?: Record<string, unknown>) => {
    const result = await harness.query(query, { token: world.patient.token, variables });
    return {
      status: result.status,
      codes: result.errors?.map((error) => error.extensions?.code),
      message: result.errors?.[0]?.message,
    };
  };

  test("error: too deep", async () => {
    const deep = `query { patient(address: "${world.patient.address}") { alerts { patient { alerts { patient {
      alerts { patient { alerts { patient { alerts { patient { address } } } } } } } } } } } }`;
    expect(await code(deep)).toMatchObject({ status: 400, codes: ["QUERY_TOO_DEEP"] });
  });

  test("error: too costly", async () => {
    const costly = `{ doctors(first: 100) { edges { node { patients(first: 100) {
      records(first: 100) { edges { node { versions { id } } } } } } } } }`;
    const result = await code(costly);
    expect(result).toMatchObject({ status: 400, codes: ["QUERY_TOO_COSTLY"] });
    expect(result.message).toMatch(/exceeds the limit of 20000/);
  });

  test("error: page size over the maximum, literal or variable", async () => {
    expect(await code(`{ doctors(first: 1000) { edges { node { address } } } }`)).toMatchObject({
      status: 400,
      codes: ["BAD_USER_INPUT"],
      message: "`first` on doctors is 1000; the maximum page size is 100.",
    });
    expect(
      await code(`query($n: Int) { doctors(first: $n) { edges { node { address } } } }`, { n: 101 }),
    ).toMatchObject({ status: 400, codes: ["BAD_USER_INPUT"] });
    expect(await code(`{ doctors(first: -1) { edges { node { address } } } }`)).toMatchObject({
      codes: ["BAD_USER_INPUT"],
    });
  });

  test("error: syntax errors, unknown fields and malformed inputs", async () => {
    expect(await code(`{ patient(address: `)).toMatchObject({ status: 400, codes: ["GRAPHQL_PARSE_FAILED"] });
    expect(await code(`{ secrets }`)).toMatchObject({ status: 400, codes: ["GRAPHQL_VALIDATION_FAILED"] });
    expect(await code(`{ patient(address: "not an address") { address } }`)).toMatchObject({
      status: 400,
      codes: ["BAD_USER_INPUT"],
    });
    expect(
      await code(
        `query($a: Address!) { patient(address: $a) { records(from: "yesterday") { edges { cursor } } } }`,
        {
          a: world.patient.address,
        },
      ),
    ).toMatchObject({ status: 400, codes: ["BAD_USER_INPUT"] });
    expect(
      await code(`query($a: Address!) { patient(address: $a) { address } }`, { a: "0x12" }),
    ).toMatchObject({
      status: 400,
      codes: ["BAD_USER_INPUT"],
    });
  });

  test("behavior: the named operations stay well inside the limits", async () => {
    for (const [query, token, address] of [
      [PatientFetch, world.grantedDoctor.token, world.patient.address],
      [DoctorFetch, world.grantedDoctor.token, world.grantedDoctor.address],
    ] as const) {
      const result = await harness.query(query, { token, variables: { address } });
      expect(result.status).toBe(200);
    }
  });
});

describe("subgraphFetcher", () => {
  test("behavior: an idle socket is retired before the subgraph's announced keep-alive ends, never reused as it closes", async () => {
    // A Node server announces `Keep-Alive: timeout=5` and closes an idle socket after 5 s. A client that
    // reuses a socket idle for about that long races the close (ECONNRESET); this one opens a new one.
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.end('{"data":{}}'));
    });
    let connections = 0;
    server.on("connection", () => connections++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const post = async () => (await subgraphFetcher(url, { method: "POST", body: "{}" })).text();
      await post();
      await post();
      const warm = connections;
      await post();
      expect(connections).toBe(warm); // kept alive between requests close together
      await new Promise((resolve) => setTimeout(resolve, 3_500)); // undici: 5 s announced - 2 s margin
      await post();
      expect(connections).toBe(warm + 1);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
