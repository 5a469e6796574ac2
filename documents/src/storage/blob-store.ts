import type { Readable } from "node:stream";
import type { ByteSource } from "../crypto/stream.ts";

/** Blobs addressed by the SHA-256 of their bytes (lower-case hex, 64 characters, no 0x). */
export interface BlobStore {
  /**
   * Stores a stream atomically: it is written under a temporary name while hashed and moved to its final
   * name only when complete, so a reader never sees a partial blob. Rejects (and leaves nothing under a
   * final name) when the source fails.
   */
  put(source: ByteSource | Readable): Promise<{ hash: string; size: number }>;
  /** The blob's bytes; BlobNotFoundError when absent. */
  get(hash: string): Promise<Readable>;
  has(hash: string): Promise<boolean>;
  delete(hash: string): Promise<void>;
  /** Every complete blob's hash (tests and maintenance). */
  list(): AsyncIterable<string>;
}

const hashPattern = /^[0-9a-f]{64}$/;

/** A blob hash as stores use it: 64 lower-case hex characters; accepts an optional 0x prefix. */
export function normalizeBlobHash(hash: string): string {
  const value = hash.toLowerCase().replace(/^0x/, "");
  if (!hashPattern.test(value)) throw new TypeError(`Not a SHA-256 blob hash: ${hash}`);
  return value;
}
