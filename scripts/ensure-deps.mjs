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

const lockHash = createHash("sha256").update(readFileSync(lockFile)).digest("hex");
const installedHash = existsSync(stampFile) ? readFileSync(stampFile, "utf8").trim() : "";

if (installedHash !== lockHash) {
  console.log(
    existsSync(join(root, "node_modules"))
      ? "[deps] package-lock.json changed: reinstalling node_modules (npm ci)"
      : "[deps] node_modules missing: installing (npm ci)",
  );
  const started = Date.now();
  execSync("npm ci --no-audit --no-fund", { cwd: root, stdio: "inherit" });
  writeFileSync(stampFile, `${lockHash}\n`);
  console.log(`[deps] installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
