import { describe, expect, test } from "vitest";
import { createCatchUpProbe } from "./caught-up.ts";
import { CatchUpTimeoutError } from "./errors.ts";

// Sources nobody answers on: every check fails, so the wait can only end by its bound.
const nowhere = {
  rpcUrl: "http://127.0.0.1:1",
  ingestMetricsUrl: "http://127.0.0.1:1/metrics",
  projectorMetricsUrl: "http://127.0.0.1:1/metrics",
  databaseUrl: "postgres://nobody:nothing@127.0.0.1:1/none",
  kafkaBrokers: ["127.0.0.1:1"],
  topic: "nowhere.events.v1",
  projectionSchemaBase: "nowhere",
};

describe("createCatchUpProbe().wait", () => {
  test("behavior: time while a service is restarting does not count against the bound", async () => {
    const probe = createCatchUpProbe(nowhere);
    let polls = 0;
    try {
      // Restarting for the first 60 polls (at least 3 s at 50 ms each), far beyond the 1 s bound.
      const error = await probe
        .wait({ timeoutMs: 1_000, pollMs: 50, paused: () => (polls++ < 60 ? ["ingest"] : []) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CatchUpTimeoutError);
      // Without the pause the bound would have ended it after some 20 polls.
      expect(polls).toBeGreaterThan(60);
    } finally {
      await probe.close();
    }
  });
});
