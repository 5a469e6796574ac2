// @carechain/load-tests: k6 load tests of PatientFetch and DoctorFetch, the seeder, the report.
// CLIs: seed.ts (npm run load:seed), run.ts (npm run load:test), k6-binary.ts; smoke run: smoke.test.ts.
export { ensureK6, K6_VERSION, type K6Binary } from "./k6-binary.ts";
export { type K6RunResult, runK6 } from "./k6-run.ts";
export { Population, type PopulationSize, populationSize, referenceSize } from "./population.ts";
export { waitForProjections } from "./projections.ts";
export { buildReport, formatTable, type K6Summary, type Report, renderHtml } from "./report.ts";
export { type SeedReport, seedChain } from "./seed-chain.ts";
export { type PreparedSystem, prepareSystem } from "./system.ts";
export { type K6Data, prepareViewers, writeK6Data } from "./viewers.ts";
