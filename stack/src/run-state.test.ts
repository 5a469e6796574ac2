import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { anvilBinary, blockNumber } from "./anvil.ts";
import { freePort, HOST } from "./ports.ts";
import { reapStaleRun, waitUntilGone, writeRunState } from "./run-state.ts";

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe("reapStaleRun", () => {
  test("behavior: an orphaned anvil is stopped gracefully, so its state file holds its last block", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "reap-"));
    folders.push(dataDir);
    const cwd = join(dataDir, "anvil");
    mkdirSync(cwd);
    const stateFile = join(cwd, "state.json");
    const port = await freePort();
    // No periodic dump within the test: only the dump on exit can hold the mined blocks.
    const anvil = spawn(
      anvilBinary(),
      ["--host", HOST, "--port", String(port), "--state", stateFile, "--state-interval", "3600", "--silent"],
      { cwd, detached: true, stdio: "ignore" },
    );
    anvil.unref();
    const rpcUrl = `http://${HOST}:${port}`;
    await expect.poll(() => blockNumber(rpcUrl, 1_000).catch(() => -1n), { timeout: 20_000 }).toBe(0n);
    await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: ["0x7"] }),
    });
    expect(await blockNumber(rpcUrl, 1_000)).toBe(7n);

    // The run's owner is gone (a kill -9 of the CLI): its pid is that of an exited process.
    const owner = spawnSync(process.execPath, ["-e", ""]).pid;
    writeRunState(dataDir, { ownerPid: owner, servers: [{ name: "anvil", pid: anvil.pid! }] });
    expect(reapStaleRun(dataDir)).toEqual([anvil.pid]);
    expect(await waitUntilGone([anvil.pid!])).toEqual([]);

    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { block: { number: string } };
    expect(Number(state.block.number)).toBe(7);
  });
});
