import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getStack } from "@carechain/stack/testing";
import { describe, expect, test } from "vitest";
import { gatewayEnvironment } from "./config.ts";
import { composeSupergraph } from "./gateway/compose.ts";
import { ourSubgraphs } from "./subgraphs/index.ts";
import { createTestDatabase } from "./testing/database.ts";

describe("entry point", () => {
  test("behavior: `main.ts all` serves the gateway, metrics on the operator port only, and stops on SIGTERM", async () => {
    // The projections the process reads (the projector's migrations) and a supergraph file.
    const { db, drop } = await createTestDatabase();
    const dir = await mkdtemp(join(tmpdir(), "gateway-main-"));
    try {
      const supergraphPath = join(dir, "supergraph.graphql");
      await writeFile(
        supergraphPath,
        composeSupergraph(
          Object.values(ourSubgraphs).map((s) => ({
            name: s.name,
            typeDefs: s.typeDefs,
            url: "http://127.0.0.1:1/graphql",
          })),
        ),
      );
      const child = spawn(
        process.execPath,
        ["--import", "tsx", new URL("./main.ts", import.meta.url).pathname, "all"],
        {
          env: {
            ...process.env,
            ...gatewayEnvironment({
              DATABASE_URL: getStack().databaseUrl,
              JWT_SECRET: "0123456789abcdef0123456789abcdef",
              PROJECTION_SCHEMA: db.projectionSchema,
              GATEWAY_SCHEMA: db.gatewaySchema,
              GATEWAY_PORT: 0,
              IDENTITY_PORT: 0,
              RECORDS_PORT: 0,
              VITALS_PORT: 0,
              SUPERGRAPH_PATH: supergraphPath,
              METRICS_PORT: 0,
            }),
          },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      const logged = (pattern: RegExp) =>
        new Promise<string>((resolve, reject) => {
          const look = () => {
            const match = pattern.exec(stderr);
            if (match) resolve(match[1]!);
          };
          child.stderr!.on("data", look);
          look();
          child.once("exit", (code) => reject(new Error(`main.ts exited with ${code}:\n${stderr}`)));
        });
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const [url, operatorUrl] = await Promise.all([
        logged(/"url":"(http:\/\/[^"]+\/graphql)"[^\n]*"msg":"gateway listening"/),
        logged(/"url":"(http:\/\/[^"]+)"[^\n]*"msg":"health and metrics server listening"/),
      ]);
      const publicUrl = url.replace(/\/graphql$/, "");
      expect(operatorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(operatorUrl).not.toBe(publicUrl);
      // The public port: a bare health answer, no metrics.
      const health = await fetch(`${publicUrl}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true });
      const publicMetrics = await fetch(`${publicUrl}/metrics`);
      expect(publicMetrics.status).toBe(404);
      expect(await publicMetrics.text()).not.toMatch(/carechain_/);
      // The operator port: the checks (the database, and the event feed once it has read it) and metrics.
      let detailed = await fetch(`${operatorUrl}/health`);
      for (let attempt = 0; detailed.status !== 200 && attempt < 100; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        detailed = await fetch(`${operatorUrl}/health`);
      }
      expect(await detailed.json()).toEqual({
        ok: true,
        checks: { database: { ok: true }, subscriptions: { ok: true } },
      });
      // Without the feed's table, subscriptions cannot work: the operator's health says so.
      await db.query(`ALTER TABLE ${db.projection}.event_feed RENAME TO event_feed_away`);
      try {
        let down = await fetch(`${operatorUrl}/health`);
        for (let attempt = 0; down.status !== 503 && attempt < 100; attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          down = await fetch(`${operatorUrl}/health`);
        }
        expect(await down.json()).toEqual({
          ok: false,
          checks: { database: { ok: true }, subscriptions: { ok: false } },
        });
      } finally {
        await db.query(`ALTER TABLE ${db.projection}.event_feed_away RENAME TO event_feed`);
      }
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ me { role } doctors { edges { cursor } } }" }),
      });
      expect(await response.json()).toEqual({ data: { me: { role: "ANONYMOUS" }, doctors: { edges: [] } } });
      const metrics = await fetch(`${operatorUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/carechain_gateway_requests_total\{/);
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      await drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
