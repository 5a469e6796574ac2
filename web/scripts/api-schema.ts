// Writes the client-facing API schema of the composed supergraph (no join__ or link__ machinery,
// @inaccessible elements removed) for GraphQL Code Generator. Run by `npm run build` before codegen.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { printSchema, Supergraph } from "@apollo/federation-internals";

const web = join(dirname(fileURLToPath(import.meta.url)), "..");
const supergraphPath = join(web, "..", "graphql-gateway", "generated", "supergraph.graphql");
const out = join(web, "src", "graphql", "generated", "schema.graphql");

const supergraph = Supergraph.build(readFileSync(supergraphPath, "utf8"));
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, printSchema(supergraph.apiSchema()));
