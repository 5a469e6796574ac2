import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { decryptStream, encryptStream, generateDocumentKey } from "../crypto/stream.ts";
import { BlobNotFoundError } from "../errors.ts";
import type { BlobStore } from "./blob-store.ts";
import { FsBlobStore } from "./fs-store.ts";
import { S3BlobStore } from "./s3-store.ts";
import { startS3Server } from "./testing.ts";

const MiB = 1024 * 1024;

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** A source that yields `before` bytes, then fails (a client that disconnects or a process that dies). */
async function* failingSource(before: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < before; sent += MiB) yield randomBytes(MiB);
  throw new Error("connection lost");
}

/** `size` bytes of deterministic pseudo-content, generated a chunk at a time (never held in memory). */
async function* generated(size: number, chunk = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < size; offset += chunk) {
    yield Buffer.alloc(Math.min(chunk, size - offset), `carechain block ${offset} `);
  }
}

let workDir: string;
let s3rver: Awaited<ReturnType<typeof startS3Server>>;
let s3: S3Client;
const bucket = "carechain-documents";

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "carechain-documents-"));
  s3rver = await startS3Server({ directory: join(workDir, "s3rver"), buckets: [bucket] });
  s3 = new S3Client({
    endpoint: s3rver.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  });
  await s3.send(new CreateBucketCommand({ Bucket: "other" }));
});

afterAll(async () => {
  s3?.destroy();
  await s3rver?.close();
  await rm(workDir, { recursive: true, force: true });
});

const stores: [string, () => Promise<BlobStore>][] = [
  ["filesystem", async () => new FsBlobStore(await mkdtemp(join(workDir, "fs-")))],
  [
    "s3",
    async () =>
      new S3BlobStore({
        client: s3,
        bucket,
        prefix: `${randomBytes(4).toString("hex")}/`,
        partSize: 5 * MiB,
      }),
  ],
];

describe.each(stores)("%s blob store", (_name, makeStore) => {
  test("default", async () => {
    const store = await makeStore();
    const bytes = randomBytes(300_000);
    const { hash, size } = await store.put(Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]));
    expect(hash).toBe(bytesToHex(sha256(bytes)));
    expect(size).toBe(bytes.length);
    expect(await store.has(hash)).toBe(true);
    expect(await store.has(`0x${hash}`)).toBe(true);
    expect((await readAll(await store.get(hash))).equals(bytes)).toBe(true);
    const listed = [];
    for await (const name of store.list()) listed.push(name);
    expect(listed).toEqual([hash]);
    await store.delete(hash);
    expect(await store.has(hash)).toBe(false);
  });

  test("behavior: multipart-sized blob (12 MiB) streams through", async () => {
    const store = await makeStore();
    const { hash, size } = await store.put(generated(12 * MiB));
    expect(size).toBe(12 * MiB);
    const hasher = sha256.create();
    for await (const part of await store.get(hash)) hasher.update(part as Uint8Array);
    expect(bytesToHex(hasher.digest())).toBe(hash);
  });

  test("error: a source that fails mid-upload leaves no blob and serves no leftover", async () => {
    const store = await makeStore();
    await expect(store.put(failingSource(6 * MiB))).rejects.toThrow("connection lost");
    const listed = [];
    for await (const name of store.list()) listed.push(name);
    expect(listed).toEqual([]);
    if (store instanceof S3BlobStore) {
      const leftovers = [];
      for await (const key of store.listKeys(`${(store as unknown as { prefix: string }).prefix}tmp/`))
        leftovers.push(key);
      expect(leftovers).toEqual([]);
    }
  });

  test("error: unknown and malformed hashes", async () => {
    const store = await makeStore();
    await expect(store.get("ab".repeat(32))).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.has("ab".repeat(32))).toBe(false);
    await expect(store.get("../../etc/passwd")).rejects.toThrow(TypeError);
  });
});

describe("filesystem blob store", () => {
  test("behavior: a crash leftover in tmp/ is never served under a final name and can be swept", async () => {
    const dir = await mkdtemp(join(workDir, "crash-"));
    const store = new FsBlobStore(dir);
    await store.put([Buffer.from("warm up")]);
    // What a killed process leaves: a half-written temporary file.
    const half = randomBytes(1000);
    await writeFile(join(dir, "tmp", "killed-upload"), half);
    const hash = bytesToHex(sha256(half));
    expect(await store.has(hash)).toBe(false);
    await expect(store.get(hash)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.sweepTemporary(0)).toBe(1);
    expect(await readdir(join(dir, "tmp"))).toEqual([]);
  });

  test("behavior: 64 MiB encrypted round trip with bounded memory, no plaintext in the store", async () => {
    const size = 64 * MiB;
    const store = new FsBlobStore(await mkdtemp(join(workDir, "large-")));
    const key = generateDocumentKey();
    global.gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    const sample = () => {
      const now = process.memoryUsage();
      peakRss = Math.max(peakRss, now.rss);
      peakHeap = Math.max(peakHeap, now.heapUsed);
    };
    const timer = setInterval(sample, 5);
    const started = performance.now();
    try {
      const { hash, size: stored } = await store.put(Readable.from(encryptStream(generated(size), key)));
      expect(stored).toBeGreaterThan(size);
      const expected = sha256.create();
      for await (const part of generated(size)) expected.update(part);
      const actual = sha256.create();
      let length = 0;
      for await (const part of decryptStream(await store.get(hash), key)) {
        actual.update(part);
        length += part.length;
        sample();
      }
      clearInterval(timer);
      expect(length).toBe(size);
      expect(bytesToHex(actual.digest())).toBe(bytesToHex(expected.digest()));
      // The store holds ciphertext only: no block of the generated content appears in it.
      const blob = await readFile(join(store.directory, "blobs", hash));
      expect(blob.includes("carechain block")).toBe(false);
    } finally {
      clearInterval(timer);
    }
    const rssGrowth = (peakRss - baseline.rss) / MiB;
    const heapGrowth = (peakHeap - baseline.heapUsed) / MiB;
    console.log(
      `64 MiB round trip: ${((performance.now() - started) / 1000).toFixed(2)} s, rss growth ${rssGrowth.toFixed(1)} MiB, heap growth ${heapGrowth.toFixed(1)} MiB`,
    );
    expect(rssGrowth).toBeLessThan(32);
    expect(heapGrowth).toBeLessThan(32);
  });
});
