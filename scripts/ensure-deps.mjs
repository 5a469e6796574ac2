#!/usr/bin/env node
// Installs node_modules when it is missing or older than package-lock.json, so that the README's two
// commands work on a fresh clone. Plain Node with no dependencies: it runs before anything is installed.
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
      ? "[deps] package-lock.json changed: updating node_modules (npm install)"
      : "[deps] node_modules missing: installing (npm install)",
  );
  const started = Date.now();
  // `npm install`, not `npm ci`: this npm leaves other platforms' optional packages (Biome's, esbuild's)
  // out of the lock file, which `npm ci` then refuses; `npm install` installs the locked versions all the same.
  execSync("npm install --no-audit --no-fund", { cwd: root, stdio: "inherit" });
  // The install may normalise the lock file: stamp what it left.
  writeFileSync(stampFile, `${hashOfLock()}\n`);
  console.log(`[deps] installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
