import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { ConfigError, RetryableError } from "@carechain/common";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { FsBlobStore } from "./fs-store.ts";
import { type BlobStoreConfig, openBlobStore } from "./open.ts";
import { S3BlobStore } from "./s3-store.ts";
import { startS3Server } from "./testing.ts";

let workDir: string;
let s3: Awaited<ReturnType<typeof startS3Server>>;
let endpoint: string;
const bucket = "carechain-open";

const s3Config = (overrides: Partial<Extract<BlobStoreConfig, { kind: "s3" }>> = {}): BlobStoreConfig => ({
  kind: "s3",
  bucket,
  endpoint,
  region: "us-east-1",
  prefix: "open-test/",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
  ...overrides,
});

async function roundTrip(config: BlobStoreConfig): Promise<void> {
  const opened = await openBlobStore(config);
  try {
    const { hash } = await opened.store.put([Buffer.from("ciphertext stand-in")]);
    const parts: Buffer[] = [];
    for await (const part of (await opened.store.get(hash)) as Readable) parts.push(part as Buffer);
    expect(Buffer.concat(parts).toString()).toBe("ciphertext stand-in");
    await opened.check();
  } finally {
    opened.close();
  }
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "carechain-open-store-"));
  s3 = await startS3Server({ directory: join(workDir, "s3rver"), buckets: [bucket] });
  endpoint = s3.endpoint;
});

afterAll(async () => {
  await s3?.close();
  await rm(workDir, { recursive: true, force: true });
});

describe("openBlobStore", () => {
  test("default: a directory, created when missing", async () => {
    const dir = join(workDir, "fs", "documents");
    const opened = await openBlobStore({ kind: "fs", dir });
    expect(opened.store).toBeInstanceOf(FsBlobStore);
    expect(opened.description).toBe(`filesystem ${dir}`);
    await roundTrip({ kind: "fs", dir });
  });

  test("args: an S3-compatible server (the real S3 API of s3rver), blobs under the prefix", async () => {
    const opened = await openBlobStore(s3Config());
    expect(opened.store).toBeInstanceOf(S3BlobStore);
    expect(opened.description).toBe(`s3://${bucket}/open-test/ at ${endpoint}`);
    opened.close();
    await roundTrip(s3Config());
  });

  test("error: a missing bucket or refused keys fail the start (ConfigError); a server that does not answer may be retried", async () => {
    const missing = await openBlobStore(s3Config({ bucket: "no-such-bucket" })).catch(
      (error: unknown) => error,
    );
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).shortMessage).toBe(
      `The document bucket s3://no-such-bucket/open-test/ at ${endpoint} does not exist.`,
    );
    const refused = await openBlobStore(
      s3Config({ credentials: { accessKeyId: "UNKNOWN", secretAccessKey: "wrong" } }),
    ).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).shortMessage).toMatch(/refused the gateway's credentials/);
    const down = await openBlobStore(s3Config({ endpoint: "http://127.0.0.1:1" })).catch(
      (error: unknown) => error,
    );
    expect(down).toBeInstanceOf(RetryableError);
    expect((down as RetryableError).shortMessage).toMatch(/does not answer/);
  });

  test("error: a directory that cannot be made is a ConfigError naming DOCUMENTS_DIR", async () => {
    const file = join(workDir, "a-file");
    await writeFile(file, "not a directory");
    await expect(openBlobStore({ kind: "fs", dir: join(file, "documents") })).rejects.toThrow(
      /DOCUMENTS_DIR .* cannot be used as the document store/,
    );
  });
});
