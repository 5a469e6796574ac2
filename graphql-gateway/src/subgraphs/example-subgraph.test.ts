/**
 * How another team adds a subgraph that extends `Patient` without touching ours: a `wellness` subgraph
 * with its own SDL and resolvers, started with our `startSubgraphServer` (so it trusts only the gateway's
 * signed viewer context and uses the same policy), composed with ours into one supergraph.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parse } from "../graphql.ts";
import { createTestGateway, type TestGateway, type World } from "../testing/index.ts";
import { scalarResolvers } from "./scalars.ts";
import type { SubgraphContext, SubgraphDefinition } from "./server.ts";

const wellness: SubgraphDefinition = {
  name: "wellness",
  typeDefs: parse(/* GraphQL */ `
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

    scalar Address

    type Patient @key(fields: "address") {
      address: Address!
      "A made-up 0-100 score from the wellness team. Same rule as vitals."
      wellnessScore: Int
    }
  `),
  resolvers: {
    ...scalarResolvers,
    Patient: {
      __resolveReference: (reference: { address: string }) => ({ address: reference.address }),
      wellnessScore: async (patient: { address: string }, _: unknown, ctx: SubgraphContext) => {
        await ctx.policy.authorize(patient.address, "vitals");
        return Number.parseInt(patient.address.slice(-2), 16) % 101;
      },
    },
  },
};

let harness: TestGateway;
let world: World;

beforeAll(async () => {
  harness = await createTestGateway({ extraSubgraphs: [wellness] });
  world = await harness.createWorld();
});

afterAll(async () => {
  await harness?.stop();
});

describe("example subgraph", () => {
  test("default", async () => {
    expect(harness.supergraphSdl).toMatch(/wellnessScore: Int @join__field\(graph: WELLNESS\)/);
    const result = await harness.query<{ patient: Record<string, unknown> }>(
      `query($a: Address!) { patient(address: $a) { address profileHash wellnessScore
         records(first: 1) { edges { node { id } } } } }`,
      { token: world.grantedDoctor.token, variables: { a: world.patient.address } },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.patient).toMatchObject({
      address: world.patient.address,
      wellnessScore: Number.parseInt(world.patient.address.slice(-2), 16) % 101,
      records: { edges: [{ node: { id: world.data.latestRecords[0]!.recordId } }] },
    });
  });

  test("behavior: the same policy applies to the new field, on every path", async () => {
    const insurer = await harness.query<{ patient: Record<string, unknown> }>(
      `query($a: Address!) { patient(address: $a) { address wellnessScore } }`,
      { token: world.insurer.token, variables: { a: world.patient.address } },
    );
    expect(insurer.data!.patient).toEqual({ address: world.patient.address, wellnessScore: null });
    expect(insurer.errors?.map((error) => [error.path?.join("."), error.extensions?.code])).toEqual([
      ["patient.wellnessScore", "FORBIDDEN"],
    ]);
    const viaDoctor = await harness.query<{ doctor: { patients: { wellnessScore: number }[] } }>(
      `query($d: Address!) { doctor(address: $d) { patients { wellnessScore } } }`,
      { token: world.emergencyDoctor.token, variables: { d: world.emergencyDoctor.address } },
    );
    expect(viaDoctor.errors).toBeUndefined();
    expect(viaDoctor.data!.doctor.patients).toHaveLength(1);
  });

  test("error: the new subgraph also refuses requests that do not come from the gateway", async () => {
    const subgraph = harness.subgraphs.find((running) => running.name === "wellness")!;
    const response = await fetch(subgraph.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: `{ _entities(representations: [{ __typename: "Patient", address: "0x0000000000000000000000000000000000000001" }]) { ... on Patient { wellnessScore } } }`,
      }),
    });
    expect(response.status).toBe(401);
  });
});
