import { composeServices } from "@apollo/composition";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "../graphql.ts";
import { DoctorFetch, PatientFetch } from "../operations.ts";
import { defaultLimits } from "../options.ts";
import { ourSubgraphs } from "../subgraphs/index.ts";
import { createTestGateway, type TestGateway } from "../testing/index.ts";
import {
  checkDocumentShape,
  checkScalarInputs,
  databaseFieldCost,
  introspectionCost,
  measureOperation,
} from "./limits.ts";
import { signViewerContext, viewerContextHeader } from "./viewer-context.ts";

const composed = composeServices(
  Object.values(ourSubgraphs).map((subgraph) => ({
    name: subgraph.name,
    typeDefs: subgraph.typeDefs,
    url: "http://x",
  })),
);
const schema = composed.schema!.toAPISchema().toGraphQLJSSchema() as unknown as GraphQLSchema;

function measure(query: string, variables: Record<string, unknown> = {}, limits = defaultLimits) {
  const document = parse(query);
  const operation = document.definitions.find(
    (d) => d.kind === "OperationDefinition",
  ) as OperationDefinitionNode;
  return measureOperation({ schema, document, operation, variables, limits });
}

describe("measureOperation", () => {
  test("default", () => {
    expect(measure(PatientFetch)).toEqual({ depth: 5, cost: 217, rootFields: 1 });
    expect(measure(DoctorFetch)).toEqual({ depth: 4, cost: 325, rootFields: 1 });
    // The documented operations at the largest page sizes stay well inside the limits.
    expect(measure(PatientFetch, { records: 100 })).toEqual({ depth: 5, cost: 1387, rootFields: 1 });
    expect(measure(DoctorFetch, { patients: 100 })).toEqual({ depth: 4, cost: 1525, rootFields: 1 });
    for (const operation of [PatientFetch, DoctorFetch]) {
      expect(() => checkDocumentShape(parse(operation), defaultLimits)).not.toThrow();
    }
  });

  test("behavior: fields that reach the database cost more than scalars", () => {
    // doctors (root) + edges + node + address: connection plumbing costs 1 per item.
    expect(measure(`{ doctors(first: 1) { edges { node { address } } } }`).cost).toBe(databaseFieldCost + 3);
    // patients (a list of entities) and latestVitals (an entity lookup) per parent item.
    const nested = measure(
      `query($a: Address!) { doctor(address: $a) { patients(first: 2) { latestVitals { systolic } } } }`,
    );
    expect(nested.cost).toBe(databaseFieldCost * 2 + 2 * (databaseFieldCost + 1));
  });

  test("behavior: every alias counts, introspection costs", () => {
    const aliases = Array.from({ length: 6_000 }, (_, i) => `a${i}: doctors(first: 1) { __typename }`);
    const measured = measure(`{ ${aliases.join(" ")} }`);
    expect(measured.cost).toBe(6_000 * databaseFieldCost);
    expect(measured.cost).toBeGreaterThan(defaultLimits.maxCost);
    expect(measured.rootFields).toBe(6_000);
    const schemas = Array.from({ length: 1_000 }, (_, i) => `s${i}: __schema { types { name } }`);
    expect(measure(`{ ${schemas.join(" ")} }`).cost).toBe(1_000 * introspectionCost);
    // One introspection (what tools send) is allowed; __typename is free.
    expect(measure(`{ __schema { types { name } } __typename }`).cost).toBe(introspectionCost);
  });

  test("behavior: fragments are expanded, aliases each count", () => {
    const direct = measure(`{ doctors(first: 5) { edges { node { address verified } } } }`);
    const viaFragment = measure(
      `{ doctors(first: 5) { edges { node { ...D } } } } fragment D on Doctor { address verified }`,
    );
    expect(viaFragment).toEqual(direct);
    const twice = measure(
      `{ a: doctors(first: 5) { edges { node { address verified } } } b: doctors(first: 5) { edges { node { address verified } } } }`,
    );
    expect(twice.cost).toBe(direct.cost * 2);
  });

  test("error: over the limits", () => {
    expect(() => measure(`{ doctors(first: 101) { edges { cursor } } }`)).toThrow(/maximum page size is 100/);
    expect(() => measure(`query($n: Int) { doctors(first: $n) { edges { cursor } } }`, { n: 500 })).toThrow(
      /is 500/,
    );
    expect(() =>
      measure(
        `{ me { doctor { patients { alerts { patient { alerts { patient { address } } } } } } } }`,
        {},
        { ...defaultLimits, maxDepth: 5 },
      ),
    ).toThrow(/deeper than the limit of 5/);
  });
});

describe("checkScalarInputs", () => {
  const check = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    const operation = document.definitions[0] as OperationDefinitionNode;
    return () => checkScalarInputs({ schema, operation, variables });
  };

  test("default", () => {
    expect(
      check(`{ patient(address: "0x00000000000000000000000000000000000000AA") { address } }`),
    ).not.toThrow();
    expect(
      check(`query($a: Address!) { patient(address: $a) { address } }`, { a: `0x${"a".repeat(40)}` }),
    ).not.toThrow();
  });

  test("error: malformed addresses and dates", () => {
    expect(check(`{ patient(address: "0x1") { address } }`)).toThrow(/Argument address: Address must be/);
    expect(check(`query($a: Address!) { patient(address: $a) { address } }`, { a: "bob" })).toThrow(
      /Variable \$a/,
    );
    expect(
      check(`query($a: Address!) { patient(address: $a) { vitals(from: "today") { id } } }`, {
        a: `0x${"a".repeat(40)}`,
      }),
    ).toThrow(/Argument from: DateTime must be/);
  });

  test("behavior: the same operation object again (as Apollo Server keeps it) is checked every time: new variables, the same bad literal", () => {
    const operation = parse(`query($p: Address!) { events(patients: [$p]) { edges { cursor } } }`)
      .definitions[0] as OperationDefinitionNode;
    const run = (p: string) => () => checkScalarInputs({ schema, operation, variables: { p } });
    expect(run(`0x${"a".repeat(40)}`)).not.toThrow();
    expect(run("bob")).toThrow(/Variable \$p/);
    expect(run(`0x${"b".repeat(40)}`)).not.toThrow();
    const literal = parse(`{ events(patients: ["0x${"a".repeat(40)}", "0x1"]) { edges { cursor } } }`)
      .definitions[0] as OperationDefinitionNode;
    for (let i = 0; i < 2; i++) {
      expect(() => checkScalarInputs({ schema, operation: literal, variables: {} })).toThrow(
        /Argument patients: Address must be/,
      );
    }
  });
});

describe("checkDocumentShape", () => {
  const shape = (query: string) => () => checkDocumentShape(parse(query), defaultLimits);

  test("default", () => {
    expect(shape(`{ a: doctors { edges { cursor } } b: doctors { edges { cursor } } }`)).not.toThrow();
  });

  test("error: too many aliases, top-level fields, selections or repeats", () => {
    const aliased = (n: number) => Array.from({ length: n }, (_, i) => `a${i}: me { role }`).join(" ");
    expect(shape(`{ me { ${aliased(101)} } }`)).toThrow(/101 aliases; the limit is 100/);
    expect(shape(`{ ${aliased(31)} }`)).toThrow(/31 top-level fields; the limit is 30/);
    expect(shape(`{ me { ${"role ".repeat(5)} } }`)).toThrow(/`role` is selected 5 times/);
    const fragments = Array.from({ length: 260 }, (_, i) => `fragment F${i} on Viewer { role }`);
    const spreads = Array.from({ length: 260 }, (_, i) => `...F${i}`).join(" ");
    expect(shape(`{ me { ${spreads} } } ${fragments.join(" ")}`)).toThrow(/521 selections; the limit is 500/);
  });
});

/** Requests the subgraphs received (each one runs SQL): unchanged means the gateway refused beforehand. */
async function subgraphRequests(harness: TestGateway): Promise<number> {
  const text = await harness.common.metrics.text();
  let total = 0;
  for (const match of text.matchAll(/^carechain_subgraph_requests_total\{[^}]*\} (\d+)$/gm)) {
    total += Number(match[1]);
  }
  return total;
}

async function post(harness: TestGateway, body: string) {
  const response = await fetch(harness.gateway.graphqlUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const json = (await response.json()) as {
    data?: unknown;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: response.status, json, code: json.errors?.[0]?.extensions?.code };
}

// Compact, as an attacker writes them: 1,000 fit under the query length cap.
const aliasesOfDoctors = (n: number) =>
  `{${Array.from({ length: n }, (_, i) => `a${i}:doctors(first:1){...D}`).join(" ")}} fragment D on DoctorConnection{__typename}`;
const aliasesOfSchema = (n: number) =>
  `{${Array.from({ length: n }, (_, i) => `s${i}:__schema{types{name}}`).join(" ")}}`;

describe("limits on the running gateway", () => {
  let harness: TestGateway;
  /** The same gateway with the size caps lifted: what the cost model alone refuses. */
  let wide: TestGateway;

  beforeAll(async () => {
    [harness, wide] = await Promise.all([
      createTestGateway(),
      createTestGateway({
        limits: {
          maxAliases: 100_000,
          maxRootFields: 100_000,
          maxSelections: 100_000,
          maxBodyBytes: 16 * 1024 * 1024,
          maxQueryLength: 16 * 1024 * 1024,
        },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([harness?.stop(), wide?.stop()]);
  });

  test("default: one introspection and the documented operations pass", async () => {
    const introspection = await post(harness, JSON.stringify({ query: `{ __schema { types { name } } }` }));
    expect(introspection.status).toBe(200);
    expect(introspection.json.errors).toBeUndefined();
  });

  test("error: a body over the cap is refused with 413 before it is read", async () => {
    const query = `{ doctors { edges { cursor } } } ${"#".repeat(defaultLimits.maxBodyBytes)}\n`;
    const result = await post(harness, JSON.stringify({ query }));
    expect(result.status).toBe(413);
    expect(result.code).toBe("PAYLOAD_TOO_LARGE");
  });

  test("error: a query over the length cap (in a body under its cap) is refused with 413", async () => {
    const query = `{ doctors { edges { cursor } } } ${"#".repeat(defaultLimits.maxQueryLength)}\n`;
    const result = await post(harness, JSON.stringify({ query }));
    expect(result.status).toBe(413);
    expect(result.code).toBe("PAYLOAD_TOO_LARGE");
    expect(result.json.errors?.[0]?.message).toMatch(/characters long; the limit is 32768/);
  });

  test("error: 1,000 aliases of a list field are refused before any subgraph is asked", async () => {
    const before = await subgraphRequests(harness);
    const result = await post(harness, JSON.stringify({ query: aliasesOfDoctors(1_000) }));
    expect(result.status).toBe(400);
    expect(result.code).toBe("QUERY_TOO_COSTLY");
    expect(result.json.errors?.[0]?.message).toMatch(/1000 top-level fields; the limit is 30/);
    expect(await subgraphRequests(harness)).toBe(before);
  });

  test("error: 1,000 aliased schema dumps are refused", async () => {
    const result = await post(harness, JSON.stringify({ query: aliasesOfSchema(1_000) }));
    expect(result.status).toBe(400);
    expect(result.code).toBe("QUERY_TOO_COSTLY");
    expect(result.json.errors?.[0]?.message).toMatch(/1000 top-level fields; the limit is 30/);
  });

  test("error: too many top-level fields, repeated fields", async () => {
    const roots = `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: me { role }`).join(" ")} }`;
    expect(await post(harness, JSON.stringify({ query: roots }))).toMatchObject({
      status: 400,
      code: "QUERY_TOO_COSTLY",
    });
    const repeated = `{ ${"doctors { edges { cursor } } ".repeat(300)} }`;
    expect(await post(harness, JSON.stringify({ query: repeated }))).toMatchObject({
      status: 400,
      code: "QUERY_TOO_COSTLY",
    });
  });

  test("error: with the size caps lifted, the cost alone refuses 6,000 aliases and 1,000 schema dumps", async () => {
    const before = await subgraphRequests(wide);
    const aliases = await post(wide, JSON.stringify({ query: aliasesOfDoctors(6_000) }));
    expect(aliases.status).toBe(400);
    expect(aliases.code).toBe("QUERY_TOO_COSTLY");
    expect(aliases.json.errors?.[0]?.extensions).toMatchObject({ cost: 6_000 * databaseFieldCost });
    expect(await subgraphRequests(wide)).toBe(before);
    const schemas = await post(wide, JSON.stringify({ query: aliasesOfSchema(1_000) }));
    expect(schemas.status).toBe(400);
    expect(schemas.code).toBe("QUERY_TOO_COSTLY");
    expect(schemas.json.errors?.[0]?.extensions).toMatchObject({ cost: 1_000 * introspectionCost });
  });

  test("error: subgraphs apply limits of their own to what they receive", async () => {
    const identity = harness.subgraphs.find((subgraph) => subgraph.name === "identity")!;
    const ask = async (query: string) => {
      const body = { query };
      const header = await signViewerContext(
        harness.common.options.subgraphSecret,
        { viewer: { kind: "anonymous" }, requestId: "limits-test" },
        body,
      );
      const response = await fetch(identity.url, {
        method: "POST",
        headers: { "content-type": "application/json", [viewerContextHeader]: header },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
      return { status: response.status, code: json.errors?.[0]?.extensions?.code };
    };
    expect(await ask(`{ doctors(first: 1) { edges { cursor } } }`)).toEqual({
      status: 200,
      code: undefined,
    });
    const aliases = Array.from({ length: 300 }, (_, i) => `a${i}: doctors(first: 1) { __typename }`);
    expect(await ask(`{ ${aliases.join(" ")} }`)).toEqual({ status: 400, code: "QUERY_TOO_COSTLY" });
    expect(await ask(`{ doctors(first: 1000) { edges { cursor } } }`)).toEqual({
      status: 400,
      code: "BAD_USER_INPUT",
    });
  });
});
