import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import {
  MissingToolError,
  ServerExitedError,
  StartAbortedError,
  StartupTimeoutError,
  ToolFailedError,
} from "./errors.ts";
import {
  isAlive,
  ManagedProcess,
  RestartsExhaustedError,
  runTool,
  type SpawnSpec,
  type StartProcess,
  Supervised,
  type SupervisionEvent,
} from "./processes.ts";

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

describe("Supervised", () => {
  /** A start that spawns `node -e <script(n)>` for the n-th start (1-based) and counts the starts. */
  const starter = (script: (n: number) => string) => {
    let starts = 0;
    const start: StartProcess = async (register) => {
      starts += 1;
      const child = await ManagedProcess.spawn({
        name: "flaky",
        command: process.execPath,
        args: ["-e", script(starts)],
        cwd: dir,
        logFile: join(dir, "flaky.log"),
      });
      register(child);
      await child.waitUntil(async () => true, { what: "nothing", timeoutMs: 10_000 });
      return child;
    };
    return { start, starts: () => starts };
  };
  const crashSoon = `console.log("up, about to fail"); setTimeout(() => process.exit(3), 200)`;
  const stayUp = `console.log("up and serving"); setInterval(() => {}, 1000)`;

  async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  test("behavior: a process that crashes is started again, each delay double the one before", async () => {
    const flaky = starter((n) => (n <= 3 ? crashSoon : stayUp));
    const events: SupervisionEvent[] = [];
    const supervised = await Supervised.start("flaky", flaky.start, {
      policy: { initialDelayMs: 50, maxDelayMs: 10_000, maxCrashes: 10 },
      onEvent: (event) => events.push(event),
    });
    const gaveUp: unknown[] = [];
    supervised.onCrash((error) => gaveUp.push(error));
    try {
      await until("the 4th start", () => supervised.status().restarts === 3);
      const crashes = events.flatMap((e) => (e.kind === "crashed" ? [e] : []));
      expect(crashes.map((e) => [e.attempt, e.delayMs])).toEqual([
        [1, 50],
        [2, 100],
        [3, 200],
      ]);
      expect(crashes[0]!.error).toMatchObject({ server: "flaky", exitCode: 3 });
      expect(
        events.filter((e) => e.kind === "restarted").map((e) => e.kind === "restarted" && e.restarts),
      ).toEqual([1, 2, 3]);
      expect(supervised.status()).toMatchObject({ name: "flaky", state: "running", restarts: 3 });
      expect(supervised.process?.running).toBe(true);
      expect(gaveUp).toEqual([]);
    } finally {
      await supervised.stop(1_000);
    }
    expect(supervised.status().state).toBe("stopped");
    expect(flaky.starts()).toBe(4);
  });

  test("behavior: a process that stops answering its liveness probe (SIGSTOP) is killed and started again", async () => {
    const portFile = join(dir, "port");
    let starts = 0;
    const serve = `const s = require("http").createServer((q, r) => r.end("ok")).listen(0, "127.0.0.1", () =>
      require("fs").writeFileSync(${JSON.stringify(portFile)}, String(s.address().port)))`;
    const start: StartProcess = async (register) => {
      starts += 1;
      rmSync(portFile, { force: true });
      const child = await ManagedProcess.spawn({
        name: "hangs",
        command: process.execPath,
        args: ["-e", serve],
        cwd: dir,
        logFile: join(dir, "hangs.log"),
      });
      register(child);
      await child.waitUntil(async () => existsSync(portFile), { what: "its port file", timeoutMs: 20_000 });
      return child;
    };
    const probe = async () =>
      (
        await fetch(`http://127.0.0.1:${readFileSync(portFile, "utf8")}/`, {
          signal: AbortSignal.timeout(1_000),
        })
      ).ok;
    const events: SupervisionEvent[] = [];
    const supervised = await Supervised.start("hangs", start, {
      policy: { initialDelayMs: 50 },
      liveness: { probe, intervalMs: 200, timeoutMs: 1_000, failures: 3 },
      onEvent: (event) => events.push(event),
    });
    try {
      const first = supervised.process!.pid;
      await sleep(1_500);
      expect(supervised.status()).toMatchObject({ state: "running", restarts: 0 }); // it answers: left alone
      process.kill(first, "SIGSTOP");
      await until(
        "the restart",
        () => supervised.status().restarts === 1 && supervised.status().state === "running",
        60_000,
      );
      expect(events.find((event) => event.kind === "unresponsive")).toMatchObject({
        pid: first,
        failures: 3,
      });
      expect(isAlive(first)).toBe(false);
      expect(await probe()).toBe(true);
      expect(starts).toBe(2);
    } finally {
      await supervised.stop(1_000);
    }
  });

  test("error: it gives up, loudly, at the maxCrashes-th crash within the window", async () => {
    const flaky = starter(() => crashSoon);
    const supervised = await Supervised.start("flaky", flaky.start, {
      policy: { initialDelayMs: 20, maxCrashes: 3, windowMs: 60_000 },
    });
    const error = await new Promise<ServerExitedError>((resolve) => supervised.onCrash(resolve));
    expect(error).toBeInstanceOf(RestartsExhaustedError);
    expect(error).toMatchObject({ server: "flaky", exitCode: 3, crashes: 3 });
    expect(error.message).toMatch(/^flaky crashed 3 times within 60 s: gave up restarting it/);
    expect(error.message).toContain("up, about to fail");
    expect(supervised.status()).toMatchObject({ state: "gave-up", restarts: 2, pid: undefined });
    expect(supervised.exitError()).toBe(error);
    expect(flaky.starts()).toBe(3);
    await supervised.stop(1_000);
    expect(supervised.status().state).toBe("gave-up");
  });

  test("behavior: a process that ran longer than resetAfterMs starts the series over", async () => {
    // 1st: crashes at once; 2nd: runs 800 ms (> resetAfterMs) then crashes; 3rd: stays up.
    const flaky = starter((n) =>
      n === 1 ? crashSoon : n === 2 ? "setTimeout(() => process.exit(4), 800)" : stayUp,
    );
    const events: SupervisionEvent[] = [];
    const supervised = await Supervised.start("flaky", flaky.start, {
      policy: { initialDelayMs: 50, resetAfterMs: 400 },
      onEvent: (event) => events.push(event),
    });
    try {
      await until("the 3rd start", () => supervised.status().restarts === 2);
      const crashes = events.flatMap((e) => (e.kind === "crashed" ? [[e.attempt, e.delayMs]] : []));
      expect(crashes).toEqual([
        [1, 50],
        [1, 50],
      ]);
    } finally {
      await supervised.stop(1_000);
    }
  });

  test("behavior: stop() during the delay cancels the restart and reports no crash", async () => {
    const flaky = starter(() => crashSoon);
    const supervised = await Supervised.start("flaky", flaky.start, { policy: { initialDelayMs: 60_000 } });
    const gaveUp: unknown[] = [];
    supervised.onCrash((error) => gaveUp.push(error));
    await until("the crash", () => supervised.status().state === "restarting");
    const status = supervised.status();
    expect(status).toMatchObject({ state: "restarting", attempt: 1, pid: undefined });
    expect(status.nextAttemptAt).toBeGreaterThan(Date.now());
    await supervised.stop(1_000);
    await sleep(200);
    expect(supervised.status().state).toBe("stopped");
    expect(flaky.starts()).toBe(1);
    expect(gaveUp).toEqual([]);
  });

  test("args: retryFirstStart: a first start whose process exits is retried; an abort cancels the retries", async () => {
    // Exits before it is ready on the first start (a server it needs not up yet), stays up on the second.
    const notYet = `console.log("missing a dependency"); process.exit(5)`;
    const flaky = starter((n) => (n === 1 ? notYet : stayUp));
    const events: SupervisionEvent[] = [];
    const start: StartProcess = async (register) => {
      const child = await flaky.start(register);
      // Ready once it says so; an exit before that fails the wait with ServerExitedError.
      await child.waitUntil(async () => child.tail().includes("up and serving"), {
        what: "up and serving",
        timeoutMs: 20_000,
      });
      return child;
    };
    const supervised = await Supervised.start("flaky", start, {
      policy: { initialDelayMs: 20 },
      retryFirstStart: true,
      onEvent: (event) => events.push(event),
    });
    try {
      expect(supervised.status()).toMatchObject({ state: "running", restarts: 1 });
      expect(events.map((e) => e.kind)).toEqual(["crashed", "restarted"]);
      expect(flaky.starts()).toBe(2);
    } finally {
      await supervised.stop(1_000);
    }

    const abort = new AbortController();
    const never = starter(() => notYet);
    const starting = Supervised.start(
      "flaky",
      async (register) => {
        const child = await never.start(register);
        await child.waitUntil(async () => false, { what: "never", timeoutMs: 20_000 });
        return child;
      },
      { policy: { initialDelayMs: 60_000 }, retryFirstStart: true, signal: abort.signal },
    );
    await until("the first attempt", () => never.starts() === 1);
    await sleep(500);
    abort.abort();
    await expect(starting).rejects.toBeInstanceOf(StartAbortedError);
    expect(never.starts()).toBe(1);
  });

  test("error: a first start that fails is thrown, not retried, and what it spawned is stopped", async () => {
    let spawned: ManagedProcess | undefined;
    const start: StartProcess = async (register) => {
      spawned = await ManagedProcess.spawn(sh("never-ready", "echo booting; exec sleep 30"));
      register(spawned);
      await spawned.waitUntil(async () => false, { what: "a miracle", timeoutMs: 300 });
      return spawned;
    };
    await expect(Supervised.start("never-ready", start)).rejects.toBeInstanceOf(StartupTimeoutError);
    expect(spawned?.running).toBe(false);
  });
});
