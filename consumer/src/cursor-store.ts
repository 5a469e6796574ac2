import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "@carechain/common";

/**
 * Where a pull client keeps its place in the event feed: the last page's `endCursor`, saved after the page's
 * events were handled, so that a restart continues exactly there. null: start from the beginning.
 */
export interface CursorStore {
  load(): Promise<string | null>;
  save(cursor: string | null): Promise<void>;
}

/** In memory: for tests, and for consumers that keep the cursor themselves. */
export function memoryCursorStore(
  initial: string | null = null,
): CursorStore & { readonly cursor: string | null } {
  let cursor = initial;
  return {
    load: async () => cursor,
    save: async (next) => {
      cursor = next;
    },
    get cursor() {
      return cursor;
    },
  };
}

type CursorFile = { cursor: string | null; savedAt: string };

/**
 * A JSON file. Written to a temporary file beside it, flushed, then renamed over it: a crash leaves the old
 * cursor or the new one, never half of one (rename is atomic within a directory).
 */
export function fileCursorStore(path: string): CursorStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
      let parsed: Partial<CursorFile>;
      try {
        parsed = JSON.parse(text) as Partial<CursorFile>;
      } catch {
        parsed = {};
      }
      if (parsed.cursor !== null && typeof parsed.cursor !== "string")
        throw new ConfigError(`${path} is not a cursor file: remove it to start from the beginning.`);
      return parsed.cursor;
    },
    async save(cursor) {
      await mkdir(dirname(path), { recursive: true });
      const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
      const content: CursorFile = { cursor, savedAt: new Date().toISOString() };
      const file = await open(temporary, "w", 0o600);
      try {
        await file.writeFile(`${JSON.stringify(content)}\n`);
        await file.sync();
      } finally {
        await file.close();
      }
      try {
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
  };
}
