/**
 * Build step: composes our subgraphs into generated/supergraph.graphql (Apollo Federation 2) and fails on
 * any composition error. The URLs written are the default local ports; the gateway overrides them by
 * subgraph name from its configuration (IDENTITY_URL, RECORDS_URL, VITALS_URL).
 *
 *   npx tsx graphql-gateway/scripts/compose.ts   (npm run build -w @carechain/gateway)
 */
import { mkdir, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runMain } from "@carechain/common";
import { composeSupergraph } from "../src/gateway/compose.ts";
import { defaultSubgraphPorts, type SubgraphName } from "../src/options.ts";
import { ourSubgraphs } from "../src/subgraphs/index.ts";

const output = new URL("../generated/supergraph.graphql", import.meta.url);

runMain(async () => {
  const supergraph = composeSupergraph(
    (Object.keys(ourSubgraphs) as SubgraphName[]).map((name) => ({
      name,
      typeDefs: ourSubgraphs[name].typeDefs,
      url: `http://127.0.0.1:${defaultSubgraphPorts[name]}/graphql`,
    })),
  );
  await mkdir(new URL("./", output), { recursive: true });
  await writeFile(output, supergraph);
  process.stdout.write(
    `supergraph: wrote ${fileURLToPath(output)} (${Object.keys(ourSubgraphs).join(", ")})\n`,
  );
  return 0;
});
