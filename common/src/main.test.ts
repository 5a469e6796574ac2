import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

// runMain is about a process's exit code, output and signals: each case runs a real child process.
const dir = mkdtempSync(join(tmpdir(), "carechain-run-main-"));
const mainUrl = new URL("./main.ts", import.meta.url).href;
const errorsUrl = new URL("./errors.ts", import.meta.url).href;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(body: string, signal?: NodeJS.Signals): Promise<{ code: number | null; out: string }> {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(
    file,
    `import { runMain } from ${JSON.stringify(mainUrl)};\nimport { ConfigError } from ${JSON.stringify(errorsUrl)};\nvoid ConfigError;\n${body}\n`,
  );
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", file], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (signal && out.includes("ready")) child.kill(signal);
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("runMain", () => {
  test("default: the returned number is the exit code", async () => {
    expect((await run("runMain(async () => 3);")).code).toBe(3);
  });

  test("error: a ConfigError exits 2 with its message and no stack", async () => {
    const { code, out } = await run(`runMain(async () => { throw new ConfigError("set FOO"); });`);
    expect(code).toBe(2);
    expect(out.trim()).toBe("set FOO");
  });

  test("error: an unknown error exits 1 with its stack, after the stop steps ran", async () => {
    const { code, out } = await run(
      `runMain(async (ctx) => { ctx.onStop((why) => console.log("stopped: " + why)); throw new Error("boom"); });`,
    );
    expect(code).toBe(1);
    expect(out).toContain("stopped: failure");
    expect(out).toMatch(/Error: boom\n\s+at /);
  });

  test("behavior: a signal aborts ctx.signal, runs the stop steps last-first, then exits 0", async () => {
    const { code, out } = await run(
      `runMain(async (ctx) => {
        ctx.onStop(() => console.log("first registered"));
        ctx.onStop((why) => console.log("last registered " + why + " " + ctx.signal.aborted));
        setInterval(() => {}, 1000);
        console.log("ready");
      });`,
      "SIGTERM",
    );
    expect(code).toBe(0);
    expect(out).toMatch(/last registered SIGTERM true\nfirst registered/);
  });
});
