import { createHash, randomUUID } from "node:crypto";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { ByteSource } from "../crypto/stream.ts";
import { BlobNotFoundError } from "../errors.ts";
import { type BlobStore, normalizeBlobHash } from "./blob-store.ts";

/**
 * Blobs in an S3 bucket: `<prefix>blobs/<hash>` for complete blobs, `<prefix>tmp/<uuid>` while writing. A
 * blob is streamed to its temporary key with a multipart upload (lib-storage, bounded memory: `partSize` ×
 * `queueSize`) while hashed, then copied to its final key and the temporary object deleted. A failed upload
 * is aborted (its parts discarded) and nothing appears under `blobs/`. Copy is a single request, so blobs
 * are limited to 5 GiB; a lifecycle rule on `tmp/` should expire crash leftovers.
 */
export class S3BlobStore implements BlobStore {
  private readonly prefix: string;

  constructor(
    private readonly options: {
      client: S3Client;
      bucket: string;
      prefix?: string;
      partSize?: number;
      queueSize?: number;
    },
  ) {
    this.prefix = options.prefix ?? "";
  }

  private key(hash: string): string {
    return `${this.prefix}blobs/${normalizeBlobHash(hash)}`;
  }

  async put(source: ByteSource | Readable): Promise<{ hash: string; size: number }> {
    const { client, bucket } = this.options;
    const temporary = `${this.prefix}tmp/${randomUUID()}`;
    const hasher = createHash("sha256");
    let size = 0;
    const body = new PassThrough({ highWaterMark: 1024 * 1024 });
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: temporary, Body: body },
      partSize: this.options.partSize ?? 8 * 1024 * 1024,
      queueSize: this.options.queueSize ?? 2,
      leavePartsOnError: false,
    });
    const feeding = pipeline(
      source instanceof Readable ? source : Readable.from(source),
      async function* (chunks: AsyncIterable<Uint8Array>) {
        for await (const chunk of chunks) {
          hasher.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      body,
    );
    const uploading = upload.done();
    let sourceError: unknown;
    try {
      await Promise.all([
        feeding.catch(async (error: unknown) => {
          sourceError = error;
          await upload.abort().catch(() => {});
          throw error;
        }),
        uploading,
      ]);
    } catch (error) {
      await uploading.catch(() => {});
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
      throw sourceError ?? error;
    }
    const hash = hasher.digest("hex");
    try {
      await client.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: this.key(hash),
          CopySource: `${bucket}/${encodeURIComponent(temporary).replaceAll("%2F", "/")}`,
        }),
      );
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: temporary })).catch(() => {});
    }
    return { hash, size };
  }

  async get(hash: string): Promise<Readable> {
    try {
      const result = await this.options.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(hash) }),
      );
      if (result.Body instanceof Readable) return result.Body;
      throw new Error("S3 answered without a stream body.");
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(`No blob ${hash}.`);
      throw error;
    }
  }

  async has(hash: string): Promise<boolean> {
    try {
      await this.options.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(hash) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(hash: string): Promise<void> {
    await this.options.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(hash) }),
    );
  }

  async *list(): AsyncIterable<string> {
    yield* this.listKeys(`${this.prefix}blobs/`);
  }

  /** Every key under `prefix` with the prefix removed (also used by tests to look at `tmp/`). */
  async *listKeys(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key.slice(prefix.length);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}
