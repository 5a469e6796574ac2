import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ByteSource } from "../crypto/stream.ts";
import { BlobNotFoundError } from "../errors.ts";
import { type BlobStore, normalizeBlobHash } from "./blob-store.ts";

/**
 * Blobs in a local directory (the embedded default): `blobs/<hash>` for complete blobs, `tmp/<uuid>` while
 * writing. A blob is hashed while streamed to its temporary file, fsynced, then renamed (atomic on one file
 * system); a failed write removes its temporary file, and leftovers of a crash are never served (only
 * `blobs/` is read) and can be swept with `sweepTemporary`.
 */
export class FsBlobStore implements BlobStore {
  private readonly blobs: string;
  private readonly tmp: string;
  private ready: Promise<void> | undefined;

  constructor(readonly directory: string) {
    this.blobs = join(directory, "blobs");
    this.tmp = join(directory, "tmp");
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.blobs, { recursive: true });
      await mkdir(this.tmp, { recursive: true });
    })();
    return this.ready;
  }

  async put(source: ByteSource | Readable): Promise<{ hash: string; size: number }> {
    await this.init();
    const temporary = join(this.tmp, randomUUID());
    const hasher = createHash("sha256");
    let size = 0;
    try {
      await pipeline(
        source instanceof Readable ? source : Readable.from(source),
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hasher.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(temporary, { flags: "wx" }),
      );
      const handle = await open(temporary, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      const hash = hasher.digest("hex");
      await rename(temporary, join(this.blobs, hash));
      return { hash, size };
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  async get(hash: string): Promise<Readable> {
    await this.init();
    const path = join(this.blobs, normalizeBlobHash(hash));
    const handle = await open(path, "r").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") throw new BlobNotFoundError(`No blob ${hash}.`);
      throw error;
    });
    return handle.createReadStream();
  }

  async has(hash: string): Promise<boolean> {
    await this.init();
    return stat(join(this.blobs, normalizeBlobHash(hash))).then(
      () => true,
      () => false,
    );
  }

  async delete(hash: string): Promise<void> {
    await this.init();
    await rm(join(this.blobs, normalizeBlobHash(hash)), { force: true });
  }

  async *list(): AsyncIterable<string> {
    await this.init();
    for (const name of await readdir(this.blobs)) yield name;
  }

  /** Removes temporary files older than `olderThanMs` (left by a crash during a write). */
  async sweepTemporary(olderThanMs = 3_600_000): Promise<number> {
    await this.init();
    let removed = 0;
    for (const name of await readdir(this.tmp)) {
      const path = join(this.tmp, name);
      const info = await stat(path).catch(() => undefined);
      if (info && Date.now() - info.mtimeMs > olderThanMs) {
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }
}
