#!/usr/bin/env node
// Installs node_modules when it is missing or older than package-lock.json, so that every command a README
// names works on a fresh clone (every package script starts with it). Plain Node with no dependencies: it
// runs before anything is installed.
import { execSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockFile = join(root, "package-lock.json");
const stampFile = join(root, "node_modules", ".carechain-lock-hash");

const hashOfLock = () => createHash("sha256").update(readFileSync(lockFile)).digest("hex");
const lockHash = hashOfLock();
const installedHash = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "";

if (installedHash !== lockHash) {
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
}
