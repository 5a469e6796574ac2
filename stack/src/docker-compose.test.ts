// docker-compose.yml cannot be run here (no Docker engine), but it can be validated: Compose's `config`
// checks it against the Compose schema, resolves anchors and references, and needs no engine.
// scripts/ensure-docker-compose.sh finds Compose or installs Debian's docker-compose package.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { envVariables } from "@carechain/common";
import { deliveryEnvSchema } from "@carechain/delivery";
import { gatewayEnvSchema } from "@carechain/gateway";
import { ingestEnvSchema, projectorEnvSchema } from "@carechain/indexer";
import { webEnvSchema } from "@carechain/web/server";
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
  "delivery",
  "web",
];

/** The one variable Compose requires (docker-compose.yml ships no default secret). */
const requiredEnv = { JWT_SECRET: "0123456789abcdef0123456789abcdef0123456789abcdef" };

let compose: (...args: string[]) => Promise<string>;
/** Compose with exactly this environment added to ours minus JWT_SECRET. */
let composeWith: (env: Record<string, string>, ...args: string[]) => Promise<string>;

beforeAll(async () => {
  const { stdout } = await run("bash", [join(repoRoot, "scripts", "ensure-docker-compose.sh")], {
    timeout: 280_000,
  });
  const [command, ...prefix] = stdout.trim().split(" ");
  const { JWT_SECRET: _ours, ...base } = process.env;
  composeWith = async (env, ...args) =>
    (
      await run(command!, [...prefix, "-f", composeFile, ...args], {
        cwd: repoRoot,
        timeout: 60_000,
        env: { ...base, ...env },
      })
    ).stdout;
  compose = (...args) => composeWith(requiredEnv, ...args);
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

  test("behavior: every long-running service restarts by itself and has a healthcheck; the pipeline's hit their /health", async () => {
    const blocks = serviceBlocks(await compose("config"));
    // One-shot jobs (a deploy) disable their healthcheck and do not restart: checked above.
    // (Compose v1 writes `disable: true` as `test: [NONE]`.)
    const oneShot = (block: string) =>
      /^ {4}healthcheck:\n {6}(disable: true|test:\n {6,8}- NONE$)/m.test(block);
    const longRunning = [...blocks].filter(([, block]) => !oneShot(block));
    expect(longRunning.map(([name]) => name)).toEqual(expect.arrayContaining(SERVICES));
    const healthcheckOf = (block: string) =>
      (block.split(/^ {4}healthcheck:\n/m)[1]?.split(/^ {4}\S/m)[0] ?? "").replace(/\n\s+/g, " ");
    for (const [name, block] of longRunning) {
      expect(block, `${name} restart`).toMatch(
        /^ {4}restart: ['"]?(unless-stopped|always|on-failure(:\d+)?)['"]?$/m,
      );
      expect(healthcheckOf(block), `${name} healthcheck`).toMatch(/(^|\s)test: /);
    }
    // The pipeline's services: GET /health on the port the service itself is told to serve it on.
    const healthPorts = {
      "indexer-ingest": "INGEST_HEALTH_PORT",
      "indexer-projector": "PROJECTOR_HEALTH_PORT",
      gateway: "GATEWAY_PORT",
      delivery: "DELIVERY_PORT",
      web: "WEB_PORT",
    };
    for (const [name, variable] of Object.entries(healthPorts)) {
      const block = blocks.get(name) ?? "";
      const port = new RegExp(`^ {6}${variable}: ['"]?(\\d+)['"]?$`, "m").exec(block)?.[1];
      expect(port, `${name} ${variable}`).toBeDefined();
      expect(healthcheckOf(block), name).toContain(`http://127.0.0.1:${port}/health`);
    }
  });

  test("behavior: every variable Compose sets for the pipeline's services is one its schema declares", async () => {
    const blocks = serviceBlocks(await compose("config"));
    const schemas = {
      "indexer-ingest": ingestEnvSchema,
      "indexer-projector": projectorEnvSchema,
      gateway: gatewayEnvSchema,
      delivery: deliveryEnvSchema,
      web: webEnvSchema,
    };
    for (const [name, schema] of Object.entries(schemas)) {
      const environment =
        blocks
          .get(name)
          ?.split(/^ {4}environment:\n/m)[1]
          ?.split(/^ {4}\S/m)[0] ?? "";
      const set = [...environment.matchAll(/^ {6}([A-Za-z_]\w*):/gm)].map((m) => m[1]!);
      expect(set.length, `${name} environment`).toBeGreaterThan(0);
      const declared = envVariables(schema);
      expect(
        set.filter((variable) => !declared.includes(variable)),
        `${name}: set but not read`,
      ).toEqual([]);
    }
  });

  test("behavior: host ports are bound to 127.0.0.1 only", () => {
    const portLines = readFileSync(composeFile, "utf8")
      .split("\n")
      .filter((line) => /^\s*-\s*"?[\w.]*:?\d+:\d+"?\s*(#.*)?$/.test(line));
    expect(portLines.length).toBeGreaterThanOrEqual(8);
    for (const line of portLines) expect(line).toMatch(/^\s*-\s*"127\.0\.0\.1:\d+:\d+"/);
  });

  test("error: Compose refuses to start without JWT_SECRET (no default secret)", async () => {
    const error = await composeWith({}, "config", "-q").then(
      () => undefined,
      (caught: unknown) => caught as { stderr?: string },
    );
    expect(error, "compose config succeeded without JWT_SECRET").toBeDefined();
    expect(error?.stderr).toMatch(/JWT_SECRET/);
    const normalised = await compose("config");
    expect(normalised).toContain(requiredEnv.JWT_SECRET);
    expect(normalised).not.toMatch(/change-me/);
  });

  test("behavior: graph-node's GraphQL query ports (8000, 8001) are not published on the host", async () => {
    // Its API has no permission checks: reachable inside the Compose network only.
    const graphNode = serviceBlocks(await compose("config")).get("graph-node") ?? "";
    // Until the next key of the service (list items may sit at the key's indent, as Compose v1 writes them).
    const ports = graphNode.split(/^ {4}ports:\n/m)[1]?.split(/^ {4}[\w-]+:/m)[0] ?? "";
    expect(ports).not.toBe("");
    // Short syntax (`- 127.0.0.1:8020:8020/tcp`) or long syntax (`target: 8020`), depending on the Compose.
    const targets = [
      ...[...ports.matchAll(/^\s*- (?:[\d.]*:)?\d*:?(\d+)(?:\/\w+)?\s*$/gm)].map((m) => Number(m[1])),
      ...[...ports.matchAll(/^\s*target: (\d+)/gm)].map((m) => Number(m[1])),
    ];
    expect(targets.length).toBeGreaterThan(0);
    expect(targets).not.toContain(8000);
    expect(targets).not.toContain(8001);
    expect(ports).not.toMatch(/0\.0\.0\.0/);
  });
});
