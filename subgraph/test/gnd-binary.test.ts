// Where gnd comes from (scripts/gnd.ts): GND_BINARY, ../shared/tools/gnd (copied into the cache), the
// cache, or an error saying how to install it. Stand-in binaries: a shell script printing a gnd version.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { defaultGndCacheDir, findGnd, GND_VERSION, GndNotFoundError } from "../scripts/gnd.ts";

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "carechain-gnd-binary-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function standIn(file: string, version = GND_VERSION): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\necho "gnd ${version} :: stand-in"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("findGnd", () => {
  test("default: ../shared/tools/gnd is used, and copied to <cache>/<version>/gnd", () => {
    const shared = standIn(path.join(dir, "shared", "tools", "gnd"));
    const cacheDir = path.join(dir, "cache");
    expect(findGnd({ sharedPath: shared, cacheDir })).toEqual({ path: shared, from: "shared" });
    const cached = path.join(cacheDir, GND_VERSION, "gnd");
    expect(statSync(cached).size).toBe(statSync(shared).size);
    expect(statSync(cached).mode & 0o111).not.toBe(0);
  });

  test("args: GND_BINARY wins over the shared copy and the cache", () => {
    const own = standIn(path.join(dir, "own", "gnd"));
    const shared = standIn(path.join(dir, "shared", "gnd"));
    const cacheDir = path.join(dir, "cache");
    expect(findGnd({ gndBinary: own, sharedPath: shared, cacheDir })).toEqual({
      path: own,
      from: "GND_BINARY",
    });
    expect(existsSync(path.join(cacheDir, GND_VERSION, "gnd"))).toBe(false);
  });

  test("behavior: a clone without ../shared beside it finds the copy cached by an earlier run", () => {
    const cacheDir = path.join(dir, "cache");
    findGnd({ sharedPath: standIn(path.join(dir, "shared", "gnd")), cacheDir });
    const elsewhere = findGnd({ sharedPath: path.join(dir, "elsewhere", "shared", "gnd"), cacheDir });
    expect(elsewhere).toEqual({ path: path.join(cacheDir, GND_VERSION, "gnd"), from: "cache" });
  });

  test("behavior: the cache is under XDG_CACHE_HOME when set, else ~/.cache", () => {
    expect(defaultGndCacheDir("/x/cache")).toBe(path.join("/x/cache", "carechain", "gnd"));
    expect(defaultGndCacheDir(undefined)).toMatch(/\.cache\/carechain\/gnd$/);
  });

  test("error: nothing found names GND_BINARY, graph-node's releases and cargo install", () => {
    const find = () => findGnd({ sharedPath: path.join(dir, "none"), cacheDir: path.join(dir, "cache") });
    expect(find).toThrow(GndNotFoundError);
    expect(find).toThrow(/GND_BINARY/);
    expect(find).toThrow(/github\.com\/graphprotocol\/graph-node\/releases/);
    expect(find).toThrow(/cargo install --locked --git https:\/\/github\.com\/graphprotocol\/graph-node gnd/);
  });

  test("error: a GND_BINARY that names no file is an error, not a fallback", () => {
    const shared = standIn(path.join(dir, "shared", "gnd"));
    expect(() => findGnd({ gndBinary: path.join(dir, "missing"), sharedPath: shared })).toThrow(
      /GND_BINARY=.*missing is not a file/,
    );
  });
});
