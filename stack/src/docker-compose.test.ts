// docker-compose.yml cannot be run here (no Docker engine), but it can be validated: Compose's `config`
// checks it against the Compose schema, resolves anchors and references, and needs no engine.
// scripts/ensure-docker-compose.sh finds Compose or installs Debian's docker-compose package.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { repoRoot } from "./config.ts";

const run = promisify(execFile);
const composeFile = join(repoRoot, "docker-compose.yml");

/** The services the README promises. */
const SERVICES = [
  "anvil",
  "kafka",
  "postgres",
  "graph-node",
  "ipfs",
  "graph-postgres",
  "indexer-ingest",
  "indexer-projector",
  "gateway",
];

let compose: (...args: string[]) => Promise<string>;

beforeAll(async () => {
  const { stdout } = await run("bash", [join(repoRoot, "scripts", "ensure-docker-compose.sh")], {
    timeout: 280_000,
  });
  const [command, ...prefix] = stdout.trim().split(" ");
  compose = async (...args) =>
    (await run(command!, [...prefix, "-f", composeFile, ...args], { cwd: repoRoot, timeout: 60_000 })).stdout;
}, 300_000);

/** Each service's block of the normalised `config` output (two-space indented YAML under `services:`). */
function serviceBlocks(normalised: string): Map<string, string> {
  const services = normalised.split(/^services:\n/m)[1]?.split(/^\S/m)[0] ?? "";
  const blocks = new Map<string, string>();
  for (const block of services.split(/^(?= {2}[^\s#][^:]*:\s*$)/m)) {
    const name = /^ {2}([^\s:]+):/.exec(block)?.[1];
    if (name) blocks.set(name, block);
  }
  return blocks;
}

describe("docker-compose.yml", () => {
  test("default: Compose accepts the file and it has every service the README names", async () => {
    await compose("config", "-q");
    const services = (await compose("config", "--services")).trim().split("\n");
    expect(services).toEqual(expect.arrayContaining(SERVICES));
  });

  test("behavior: servers have a healthcheck, one-shot jobs exit, every dependency waits on a condition", async () => {
    const blocks = serviceBlocks(await compose("config"));
    expect([...blocks.keys()]).toEqual(expect.arrayContaining(SERVICES));
    for (const [name, block] of blocks) {
      expect(block, name).toMatch(/^ {4}healthcheck:/m);
      // A job that runs once (a deploy) has no health: it must not restart, dependents wait for it to finish.
      if (/^ {4}healthcheck:\n {6}disable: true/m.test(block))
        expect(block, name).toMatch(/^ {4}restart: ['"]?no/m);
      const dependsOn = block.split(/^ {4}depends_on:\n/m)[1]?.split(/^ {4}\S/m)[0] ?? "";
      const dependencies = [...dependsOn.matchAll(/^ {6}([^\s:]+):/gm)].length;
      const conditions = [
        ...dependsOn.matchAll(/^ {8}condition: service_(healthy|started|completed_successfully)/gm),
      ].length;
      expect(conditions, `${name} depends_on`).toBe(dependencies);
    }
  });

  test("behavior: host ports are bound to 127.0.0.1 only", () => {
    const portLines = readFileSync(composeFile, "utf8")
      .split("\n")
      .filter((line) => /^\s*-\s*"?[\w.]*:?\d+:\d+"?\s*(#.*)?$/.test(line));
    expect(portLines.length).toBeGreaterThanOrEqual(9);
    for (const line of portLines) expect(line).toMatch(/^\s*-\s*"127\.0\.0\.1:\d+:\d+"/);
  });
});
