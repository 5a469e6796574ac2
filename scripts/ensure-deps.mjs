#!/usr/bin/env node
// Installs node_modules when it is missing or older than package-lock.json, so that every command a README
// names works on a fresh clone (every package script starts with it). Plain Node with no dependencies: it
// runs before anything is installed.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockFile = join(root, "package-lock.json");
const stampFile = join(root, "node_modules", ".carechain-lock-hash");
// Beside node_modules, not in it: `npm ci` starts by deleting node_modules.
const installLock = join(root, ".cache", "deps-install.lock");

const hashOfLock = () => createHash("sha256").update(readFileSync(lockFile)).digest("hex");
const installed = () => (existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "");
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Whether the process that holds the install lock is gone (a killed install leaves the directory). */
function lockIsStale() {
  try {
    const pid = Number(readFileSync(join(installLock, "pid"), "utf8"));
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // No pid file yet (just created) counts as held; a dead pid as stale.
    return error.code === "ESRCH";
  }
}

/**
 * Two commands started together (`npm start` beside `npm test`) would each run `npm ci`, and two `npm ci`
 * in one folder delete each other's files. One installs under a lock (an atomic mkdir); the others wait for
 * it and then find the stamp current.
 */
function withInstallLock(install) {
  mkdirSync(dirname(installLock), { recursive: true });
  let announced = false;
  for (;;) {
    try {
      mkdirSync(installLock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      if (lockIsStale()) {
        rmSync(installLock, { recursive: true, force: true });
        continue;
      }
      if (!announced) console.log("[deps] another command is installing node_modules: waiting for it");
      announced = true;
      pause(500);
    }
  }
  try {
    writeFileSync(join(installLock, "pid"), String(process.pid));
    install();
  } finally {
    rmSync(installLock, { recursive: true, force: true });
  }
}

if (installed() !== hashOfLock()) {
  withInstallLock(() => {
    const lockHash = hashOfLock();
    if (installed() === lockHash) return; // installed by the command we waited for
    console.log(
      existsSync(join(root, "node_modules"))
        ? "[deps] package-lock.json changed: reinstalling node_modules (npm ci)"
        : "[deps] node_modules missing: installing (npm ci)",
    );
    const started = Date.now();
    // `npm ci`, not `npm install`: it installs exactly the lock file and never rewrites it, so no command
    // leaves a fresh clone with a changed tracked file. (The lock lists every platform's optional packages.)
    execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
    writeFileSync(stampFile, `${lockHash}\n`);
    console.log(`[deps] installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
