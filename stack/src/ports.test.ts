import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { PortInUseError } from "./errors.ts";
import { freePort, HOST, pickRange } from "./ports.ts";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function claimsDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "port-claims-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function listenOn(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, HOST, resolve));
  cleanups.push(() => server.close());
  return server;
}

describe("pickRange", () => {
  test("default: below Linux's default ephemeral range", () => {
    expect(pickRange([32_768, 60_999])).toEqual([20_000, 32_768]);
  });

  test("args: an ephemeral range that starts low leaves only the ports below it", () => {
    expect(pickRange([25_000, 60_999])).toEqual([20_000, 25_000]);
    expect(pickRange([10_000, 60_999])).toEqual([1_024, 10_000]);
  });
});

describe("freePort", () => {
  test("default: a port below the ephemeral range that a server can bind", async () => {
    const port = await freePort({ claimsDir: claimsDir() });
    const [low, high] = pickRange();
    expect(port).toBeGreaterThanOrEqual(low);
    expect(port).toBeLessThan(high);
    await listenOn(port);
  });

  test("behavior: a port something listens on is never handed out", async () => {
    const busy = await freePort({ claimsDir: claimsDir() });
    await listenOn(busy);
    const claims = claimsDir();
    for (let i = 0; i < 5; i++) {
      rmSync(join(claims, String(busy + 1)), { force: true });
      expect(await freePort({ range: [busy, busy + 2], claimsDir: claims })).toBe(busy + 1);
    }
  });

  test("behavior: a port claimed by a live process is not handed out again; one whose claimer is gone is", async () => {
    const claims = claimsDir();
    const port = await freePort({ claimsDir: claims });
    expect(readFileSync(join(claims, String(port)), "utf8")).toBe(String(process.pid));
    await expect(freePort({ range: [port, port + 1], claimsDir: claims })).rejects.toThrow(PortInUseError);
    writeFileSync(join(claims, String(port)), "2147483646"); // no such process
    expect(await freePort({ range: [port, port + 1], claimsDir: claims })).toBe(port);
  });

  test("behavior: picks made at the same time differ", async () => {
    const claims = claimsDir();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort({ claimsDir: claims })));
    expect(new Set(ports).size).toBe(20);
  });
});
