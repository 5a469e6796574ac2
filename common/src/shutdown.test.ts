import { describe, expect, test } from "vitest";
import { createSilentLogger } from "./logger.ts";
import { Shutdown } from "./shutdown.ts";

describe("Shutdown", () => {
  test("default: runs tasks in reverse order, once, and aborts the signal", async () => {
    const shutdown = new Shutdown(createSilentLogger());
    const order: string[] = [];
    shutdown.add("first started", () => {
      order.push("first");
    });
    shutdown.add("second started", async () => {
      order.push("second");
    });
    await Promise.all([shutdown.run(), shutdown.run()]);
    expect(order).toEqual(["second", "first"]);
    expect(shutdown.signal.aborted).toBe(true);
  });

  test("behavior: a failing or hanging task does not stop the others", async () => {
    const shutdown = new Shutdown(createSilentLogger(), 50);
    const ran: string[] = [];
    shutdown.add("last", () => {
      ran.push("last");
    });
    shutdown.add("hangs", () => new Promise<void>(() => {}));
    shutdown.add("throws", () => {
      throw new Error("boom");
    });
    await shutdown.run();
    expect(ran).toEqual(["last"]);
  });
});
