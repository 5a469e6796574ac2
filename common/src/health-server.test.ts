import { describe, expect, test } from "vitest";
import { startHealthServer } from "./health-server.ts";
import { Metrics } from "./metrics.ts";

describe("startHealthServer", () => {
  test("default: health and metrics", async () => {
    const metrics = new Metrics({ service: "test", defaultMetrics: false });
    metrics.counter("carechain_test_total", "a test counter").inc(3);
    const server = await startHealthServer({
      port: 0,
      metrics,
      checks: { db: async () => ({ ok: true }) },
    });
    try {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ ok: true, checks: { db: { ok: true } } });
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('carechain_test_total{service="test"} 3');
    } finally {
      await server.close();
    }
  });

  test("error: a failing check makes the service unhealthy", async () => {
    const server = await startHealthServer({
      port: 0,
      metrics: new Metrics({ service: "test", defaultMetrics: false }),
      checks: {
        kafka: async () => {
          throw new Error("broker down");
        },
      },
    });
    try {
      const health = await fetch(`${server.url}/health`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({
        ok: false,
        checks: { kafka: { ok: false, error: "broker down" } },
      });
    } finally {
      await server.close();
    }
  });
});
