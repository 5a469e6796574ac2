import { composeServices } from "@apollo/composition";
import type { DocumentNode } from "graphql";
import { CompositionError } from "../errors.ts";

/**
 * Composes subgraphs into the supergraph SDL the gateway serves (Apollo Federation 2). The URLs written
 * in it are where the gateway finds each subgraph unless its configuration overrides them by name.
 * Throws CompositionError listing every composition error: the build fails on them.
 */
export function composeSupergraph(
  subgraphs: readonly { name: string; typeDefs: DocumentNode; url: string }[],
): string {
  const result = composeServices(
    subgraphs.map((subgraph) => ({ name: subgraph.name, typeDefs: subgraph.typeDefs, url: subgraph.url })),
  );
  if (result.errors) {
    throw new CompositionError(`Supergraph composition failed with ${result.errors.length} error(s).`, {
      details: result.errors.map((error) => `- ${error.message}`).join("\n"),
    });
  }
  return result.supergraphSdl;
}
