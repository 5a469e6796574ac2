import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { MissingToolError, ServerExitedError, StartupTimeoutError, ToolFailedError } from "./errors.ts";
import { isAlive, ManagedProcess, runTool, type SpawnSpec } from "./processes.ts";

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stack-processes-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sh = (name: string, script: string): SpawnSpec => ({
  name,
  command: "sh",
  args: ["-c", script],
  cwd: dir,
  logFile: join(dir, `${name}.log`),
});

describe("ManagedProcess", () => {
  test("error: a server that exits while being waited on fails at once with its exit code and log tail", async () => {
    const server = await ManagedProcess.spawn(
      sh("broken", "echo starting; echo 'bad setting x' >&2; exit 3"),
    );
    const started = Date.now();
    const error = await server
      .waitUntil(async () => false, { what: "nothing", timeoutMs: 30_000 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerExitedError);
    expect(error).toMatchObject({ server: "broken", exitCode: 3, retryable: false });
    expect((error as Error).message).toContain("bad setting x");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("error: a wait that runs out names the server, what it waited for and the log tail", async () => {
    const server = await ManagedProcess.spawn(sh("slow", "echo still booting; exec sleep 30"));
    try {
      const error = await server
        .waitUntil(async () => false, { what: "a miracle", timeoutMs: 300 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StartupTimeoutError);
      expect(error).toMatchObject({ server: "slow", retryable: true });
      expect((error as Error).message).toMatch(
        /slow did not become ready within 0.3 s \(waiting for a miracle\)/,
      );
      expect((error as Error).message).toContain("still booting");
    } finally {
      await server.stop(1_000);
    }
  });

  test("behavior: stop kills the whole process group, with SIGKILL when SIGTERM is ignored", async () => {
    // The shell and its background child both ignore SIGTERM.
    const server = await ManagedProcess.spawn(sh("stubborn", "trap '' TERM; sleep 60 & sleep 60; wait"));
    const crashes: unknown[] = [];
    server.onCrash((error) => crashes.push(error));
    await server.stop(300);
    expect(server.running).toBe(false);
    expect(isAlive(server.pid)).toBe(false);
    // The group's last members may linger a moment as zombies until init reaps them.
    const deadline = Date.now() + 5_000;
    while (groupExists(server.pid) && Date.now() < deadline) await sleep(50);
    expect(() => process.kill(-server.pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
    expect(crashes).toEqual([]);
  });

  test("behavior: an exit nobody asked for is reported to onCrash with the log tail", async () => {
    const server = await ManagedProcess.spawn(sh("crashy", "echo about to fail; sleep 0.2; exit 7"));
    const error = await new Promise<ServerExitedError>((resolve) => server.onCrash(resolve));
    expect(error).toMatchObject({ server: "crashy", exitCode: 7 });
    expect(error.message).toContain("about to fail");
  });

  test("error: a program that is not installed gives the hint", async () => {
    const spec = { ...sh("ghost", ""), command: "carechain-no-such-program", missingHint: "install ghost" };
    await expect(ManagedProcess.spawn(spec)).rejects.toThrow(new MissingToolError("install ghost"));
  });
});

describe("runTool", () => {
  test("error: a failing tool rejects with its exit code and output", async () => {
    const error = await runTool(sh("formatter", "echo 'disk full' >&2; exit 2"), {
      timeoutMs: 10_000,
      retryable: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailedError);
    expect((error as Error).message).toMatch(/formatter failed with exit code 2[\s\S]*disk full/);
  });

  test("default: a tool that succeeds resolves", async () => {
    await expect(
      runTool(sh("ok", "exit 0"), { timeoutMs: 10_000, retryable: false }),
    ).resolves.toBeUndefined();
  });
});
