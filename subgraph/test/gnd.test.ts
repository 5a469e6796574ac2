// The subgraph on graph-node's real runtime: `gnd test` deploys the built subgraph (real WASM, schema
// validation, store, trigger processing; only the chain is mocked) into a database of its own in the test
// stack's PostgreSQL, feeds it JSON-described blocks and checks GraphQL assertions.
// - tests/*.json: every handler, and the sequences that matter (written by hand);
// - parity: one generated sequence of events, folded by the projector (the gateway's fixtures apply it with
//   the projector's own applyBatch) and by the subgraph (gnd JSON generated from the same envelopes, in a
//   temporary folder), must answer the same questions; expiry, judged by the reader, is where they differ.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTestDatabase, Fixtures } from "@carechain/gateway/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { subgraphDir } from "../scripts/manifest.ts";
import {
  createGndDatabase,
  type GndDatabase,
  gndBlocks,
  locateGnd,
  prepareTestBuild,
  runGndTest,
  writeGndTest,
} from "./gnd-harness.ts";
import { projectorAnswers } from "./questions.ts";
import { generateSequence } from "./sequence.ts";

const testsDir = path.join(subgraphDir, "tests");
const seed = Number(process.env.PARITY_SEED ?? 20);

let gnd: string | Error;
let workDir: string;
let manifest: string;
let database: GndDatabase;

beforeAll(async () => {
  try {
    gnd = locateGnd().path;
  } catch (error) {
    gnd = error as Error;
  }
  workDir = mkdtempSync(path.join(tmpdir(), "carechain-gnd-"));
  manifest = prepareTestBuild(path.join(workDir, "subgraph"));
  database = await createGndDatabase();
});

/** gnd, or the error saying how to install it: each test that needs gnd fails with it (none skips). */
function requireGnd(): string {
  if (gnd instanceof Error) throw gnd;
  return gnd;
}

afterAll(async () => {
  await database?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe("gnd test", () => {
  test("default: every JSON test under tests/ passes on graph-node's runtime", {
    timeout: 240_000,
  }, async () => {
    const files = readdirSync(testsDir).filter((file) => file.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    const run = await runGndTest(requireGnd(), { manifest, postgresUrl: database.url, tests: [testsDir] });
    console.log(`gnd test tests/: ${files.length} files in ${run.seconds.toFixed(1)} s`);
    expect(run.exitCode, run.output).toBe(0);
    expect(run.passed, run.output).toBe(files.length);
  });

  test("behavior: the JSON tests send every event the subgraph handles", () => {
    const built = readFileSync(path.join(path.dirname(manifest), "build", "subgraph.yaml"), "utf8");
    const handled = [...built.matchAll(/- event: (\w+)\(/g)].map((match) => match[1]!).sort();
    expect(handled).toHaveLength(21);
    const sent = new Set<string>();
    for (const file of readdirSync(testsDir).filter((name) => name.endsWith(".json"))) {
      const test = JSON.parse(readFileSync(path.join(testsDir, file), "utf8")) as {
        blocks: { events?: { event: string }[] }[];
      };
      for (const block of test.blocks)
        for (const event of block.events ?? []) sent.add(event.event.split("(")[0]!);
    }
    expect(handled.filter((event) => !sent.has(event))).toEqual([]);
  });

  test("behavior: the projector and the subgraph give the same answers for one generated sequence", {
    timeout: 240_000,
  }, async () => {
    const now = Math.floor(Date.now() / 1000);
    const sequence = generateSequence(seed, now);
    const { db, drop } = await createTestDatabase();
    try {
      const fixtures = new Fixtures(db);
      await fixtures.apply(...sequence.envelopes);
      const answers = await projectorAnswers(db.pool, db.projectionSchema, now);

      // The generated data must reach the cases the README describes, or this test proves little.
      expect(new Set(sequence.envelopes.map((e) => e.type)).size, "event types in the sequence").toBe(21);
      expect(answers.activeNow.length).toBeGreaterThan(0);
      expect(answers.openNow.length).toBeGreaterThan(0);
      // By design: graph-node has no wall clock, so the grants (and emergency access) that expired after
      // their last event still read as active there; readers pass their own `now` (README.md).
      expect(answers.activeAtLastEvent.filter((pair) => !answers.activeNow.includes(pair))).not.toEqual([]);
      expect(answers.openAtLastEvent.filter((pair) => !answers.openNow.includes(pair))).not.toEqual([]);

      const dir = path.join(workDir, `parity-${seed}`);
      const file = writeGndTest(dir, "parity.json", {
        name: `parity with the projector: seed ${seed}, ${sequence.envelopes.length} events, now ${now}`,
        blocks: gndBlocks(sequence.envelopes),
        assertions: answers.assertions,
      });
      const run = await runGndTest(requireGnd(), { manifest, postgresUrl: database.url, tests: [file] });
      console.log(
        `gnd parity: ${sequence.envelopes.length} events, ${answers.assertions.length} questions in ${run.seconds.toFixed(1)} s`,
      );
      expect(run.exitCode, `seed ${seed} (PARITY_SEED to replay):\n${run.output}`).toBe(0);
      expect(run.passed).toBe(1);
    } finally {
      await drop();
    }
  });

  test("error: a schema graph-node rejects fails the run (derived field on an interface-typed field)", {
    timeout: 120_000,
  }, async () => {
    // The schema before the fix: Patient.recordsAuthored derived from Record.author (an Account), without
    // the field on the Account interface. graph-cli builds it; graph-node refuses to deploy it.
    const schema = readFileSync(path.join(subgraphDir, "schema.graphql"), "utf8");
    const broken = schema.replace(
      /\n {2}"[^"\n]*"\n {2}recordsAuthored: \[Record!\]! @derivedFrom\(field: "author"\)/,
      "",
    );
    expect(broken).not.toBe(schema);
    const brokenManifest = prepareTestBuild(path.join(workDir, "broken"), { schema: broken });
    const run = await runGndTest(requireGnd(), {
      manifest: brokenManifest,
      postgresUrl: database.url,
      tests: [path.join(testsDir, "identity.json")],
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.output).toMatch(/invalid @derivedFrom/);
  });
});
