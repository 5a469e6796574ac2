import { composeServices } from "@apollo/composition";
import type { GraphQLSchema, OperationDefinitionNode } from "graphql";
import { describe, expect, test } from "vitest";
import { parse } from "../graphql.ts";
import { DoctorFetch, PatientFetch } from "../operations.ts";
import { defaultLimits } from "../options.ts";
import { ourSubgraphs } from "../subgraphs/index.ts";
import { checkScalarInputs, measureOperation } from "./limits.ts";

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
    expect(measure(PatientFetch)).toEqual({ depth: 5, cost: 181 });
    expect(measure(DoctorFetch)).toEqual({ depth: 4, cost: 127 });
    expect(measure(PatientFetch, { records: 100 })).toEqual({ depth: 5, cost: 1351 });
  });

  test("behavior: fragments are expanded, aliases each count, introspection does not", () => {
    const direct = measure(`{ doctors(first: 5) { edges { node { address verified } } } }`);
    const viaFragment = measure(
      `{ doctors(first: 5) { edges { node { ...D } } } } fragment D on Doctor { address verified }`,
    );
    expect(viaFragment).toEqual(direct);
    const twice = measure(
      `{ a: doctors(first: 5) { edges { node { address verified } } } b: doctors(first: 5) { edges { node { address verified } } } }`,
    );
    expect(twice.cost).toBe(direct.cost * 2);
    expect(
      measure(`{ __schema { types { name fields { name type { ofType { ofType { name } } } } } } }`),
    ).toEqual({ depth: 0, cost: 0 });
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
});
