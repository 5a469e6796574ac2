import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "@carechain/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fileCursorStore, memoryCursorStore } from "./cursor-store.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "carechain-cursor-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("fileCursorStore", () => {
  test("default: nothing saved is null; a saved cursor is loaded by another store on the same file", async () => {
    const path = join(dir, "a", "b", "cursor.json");
    expect(await fileCursorStore(path).load()).toBeNull();
    await fileCursorStore(path).save("ZTEuYWJjLjU");
    expect(await fileCursorStore(path).load()).toBe("ZTEuYWJjLjU");
    await fileCursorStore(path).save(null);
    expect(await fileCursorStore(path).load()).toBeNull();
  });

  test("behavior: written through a temporary file and a rename: no partial file, no temporary left", async () => {
    const path = join(dir, "atomic.json");
    const store = fileCursorStore(path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save(`cursor-${i}`)));
    expect(await readdir(dir)).not.toContainEqual(expect.stringContaining(".tmp"));
    // Whichever save was last, the file is one whole cursor.
    expect(JSON.parse(await readFile(path, "utf8")).cursor).toMatch(/^cursor-\d+$/);
  });

  test("error: a file that is not a cursor file is a configuration error naming it", async () => {
    const path = join(dir, "broken.json");
    await writeFile(path, "{ not json");
    await expect(fileCursorStore(path).load()).rejects.toThrow(ConfigError);
    await expect(fileCursorStore(path).load()).rejects.toThrow(path);
  });
});

describe("memoryCursorStore", () => {
  test("default: keeps the last saved cursor", async () => {
    const store = memoryCursorStore("x");
    expect(await store.load()).toBe("x");
    await store.save("y");
    expect([await store.load(), store.cursor]).toEqual(["y", "y"]);
  });
});
