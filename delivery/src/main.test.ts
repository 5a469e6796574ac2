import { type ChildProcess, spawn } from "node:child_process";
import { lower } from "@carechain/gateway/testing";
import { getStack } from "@carechain/stack/testing";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { deliveryEnvironment } from "./config.ts";
import {
  createHarness,
  deliveries,
  eventually,
  type Harness,
  type Receiver,
  receiver,
  subscribe,
  world,
} from "./testing.ts";

// The entry point as a process (`tsx delivery/src/main.ts`), killed with SIGKILL mid-batch by its test hook.

let harness: Harness;
let hook: Receiver | undefined;
const children: ChildProcess[] = [];

beforeEach(async () => {
  harness = await createHarness();
});

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await hook?.down().catch(() => {});
  await harness.close();
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", new URL("./main.ts", import.meta.url).pathname], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const listening = new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"delivery service running/.exec(stderr);
      if (match) resolve(match[1]!);
    };
    child.stderr!.on("data", look);
    void exited.then(({ code, signal }) =>
      reject(new Error(`main.ts exited (${code ?? signal}):\n${stderr}`)),
    );
  });
  listening.catch(() => {});
  return { child, exited, listening, stderr: () => stderr };
}

const environment = (extra: Partial<Parameters<typeof deliveryEnvironment>[0]> = {}) =>
  deliveryEnvironment({
    DATABASE_URL: getStack().databaseUrl,
    PROJECTION_SCHEMA: harness.db.projectionSchema,
    GATEWAY_SCHEMA: harness.db.gatewaySchema,
    DELIVERY_PORT: 0,
    DELIVERY_ALLOW_PRIVATE_URLS: true,
    DELIVERY_POLL_MS: 100,
    DELIVERY_LEASE_MS: 2_000,
    DELIVERY_SENDERS: 2,
    ...extra,
  });

describe("entry point", () => {
  test("behavior: killed (-9) between a POST and its record, the restarted service delivers everything; health and metrics", async () => {
    const { organization, doctor, patient } = await world(harness.fixtures);
    hook = await receiver();
    const subscription = await subscribe(harness.db, { owner: organization, url: hook.url });
    const expected: string[] = [];
    for (let i = 0; i < 6; i++)
      expected.push(
        (await harness.fixtures.record({ patient, author: lower(doctor), type: 1, block: 110 + i })).eventId,
      );

    const first = start(environment({ DELIVERY_TEST_KILL_AFTER_SENDS: 3 }));
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(hook.received).toHaveLength(3);

    const second = start(environment());
    const url = await second.listening;
    await eventually(
      async () =>
        (await deliveries(harness.db, subscription.id)).filter((d) => d.status === "delivered").length === 6,
      "every delivery recorded after the restart",
      60_000,
    );
    // Nothing lost; the one answered but not recorded was sent again, with the same id.
    expect(new Set(hook.ids)).toEqual(new Set(expected));
    expect(hook.ids.filter((id) => id === expected[2])).toHaveLength(2);
    expect(hook.ids).toHaveLength(7);

    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      ok: true,
      checks: { database: { ok: true }, filler: { ok: true } },
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/delivery_attempts_total\{result="delivered",service="delivery"\} [1-9]/);
    expect(metrics).toMatch(/delivery_queue_depth\{status="pending"/);
    expect(metrics).toMatch(/delivery_latency_seconds_bucket/);
    expect(metrics).toMatch(/delivery_fill_lag_seq/);

    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
  }, 180_000);

  test("error: an invalid variable is named, exit code 2", async () => {
    const run = start({ ...environment(), DELIVERY_SENDERS: "0", DELIVERY_RETRY_SCHEDULE: "5 seconds" });
    expect((await run.exited).code).toBe(2);
    expect(run.stderr()).toMatch(/DELIVERY_SENDERS: .*\(got "0"\)/);
    expect(run.stderr()).toMatch(
      /DELIVERY_RETRY_SCHEDULE: "5 seconds" is not a wait: use <number><ms\|s\|m\|h>/,
    );
  }, 120_000);
});
