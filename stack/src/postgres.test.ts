import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { ConfigError } from "./errors.ts";
import { checkReachable } from "./postgres.ts";

describe("checkReachable", () => {
  const root = mkdtempSync(join(tmpdir(), "carechain-reachable-"));
  chmodSync(root, 0o755);
  const home = join(root, "home");
  mkdirSync(join(home, "checkout"), { recursive: true });
  // Another user than whoever runs the test (the `postgres` user when the test runs as root).
  const other = { uid: 54_321, gid: 54_321 };
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("error: a folder of mode 700 above the data names the folder and the one-line fix", () => {
    chmodSync(home, 0o700);
    let error: unknown;
    try {
      checkReachable(other, [join(home, "checkout", ".cache", "data")]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`cannot enter ${home}`);
    expect((error as Error).message).toContain(`chmod o+x ${home}`);
  });

  test("default: folders others may pass through (o+x) are fine", () => {
    chmodSync(home, 0o711);
    expect(() => checkReachable(other, [join(home, "checkout", ".cache", "data")])).not.toThrow();
  });
});
