import { describe, expect, test } from "vitest";
import { CompositionError } from "../errors.ts";
import { parse } from "../graphql.ts";
import { ourSubgraphs } from "../subgraphs/index.ts";
import { composeSupergraph } from "./compose.ts";

const ours = Object.values(ourSubgraphs).map((subgraph, index) => ({
  name: subgraph.name,
  typeDefs: subgraph.typeDefs,
  url: `http://127.0.0.1:${4001 + index}/graphql`,
}));

describe("composeSupergraph", () => {
  test("default", () => {
    const supergraph = composeSupergraph(ours);
    expect(supergraph).toMatch(/@join__graph\(name: "identity", url: "http:\/\/127.0.0.1:4001\/graphql"\)/);
    expect(supergraph).toMatch(/type Patient\s+@join__type\(graph: IDENTITY, key: "address"\)/);
    for (const field of ["records(", "vitals(", "alerts(", "accessLog(", "grants:"])
      expect(supergraph).toContain(field);
  });

  test("error: composition errors fail with every error listed", () => {
    const conflicting = {
      name: "conflicting",
      url: "http://127.0.0.1:4999/graphql",
      typeDefs: parse(`
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
        type Patient @key(fields: "address") { address: String! profileHash: Int }
      `),
    };
    expect(() => composeSupergraph([...ours, conflicting])).toThrow(CompositionError);
    try {
      composeSupergraph([...ours, conflicting]);
    } catch (error) {
      expect((error as CompositionError).details).toMatch(/profileHash/);
    }
  });
});
