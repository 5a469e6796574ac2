import { readFileSync } from "node:fs";

/**
 * The two named operations the load tests measure, as strings (the `.graphql` files in
 * graphql-gateway/operations are the source; see README.md for examples).
 */
export const PatientFetch = readFileSync(
  new URL("../operations/PatientFetch.graphql", import.meta.url),
  "utf8",
);
export const DoctorFetch = readFileSync(
  new URL("../operations/DoctorFetch.graphql", import.meta.url),
  "utf8",
);

export const operations = { PatientFetch, DoctorFetch } as const;

export type PatientFetchVariables = { address: string; records?: number };
export type DoctorFetchVariables = { address: string; patients?: number };
