import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { ConfigError, RetryableError } from "@carechain/common";
import type { BlobStore } from "./blob-store.ts";
import { FsBlobStore } from "./fs-store.ts";
import { S3BlobStore } from "./s3-store.ts";

/** Where the document blobs live: a local directory (the embedded default) or an S3-compatible bucket. */
export type BlobStoreConfig =
  | { kind: "fs"; dir: string }
  | {
      kind: "s3";
      bucket: string;
      /** Any S3-compatible endpoint (MinIO, Ceph, s3rver, …); AWS when absent. */
      endpoint?: string;
      region: string;
      /** Key prefix inside the bucket ("" or ending in "/"). */
      prefix: string;
      /** Path-style URLs (http://host/bucket/key): what most S3-compatible servers need. */
      forcePathStyle: boolean;
      /** Static keys; absent: the AWS SDK's default chain (environment, profile, instance role). */
      credentials?: { accessKeyId: string; secretAccessKey: string };
    };

export type OpenBlobStore = {
  store: BlobStore;
  /** Where, for the start-up log (no secret in it). */
  description: string;
  /** Whether the store answers (the gateway's health check). */
  check: () => Promise<void>;
  close: () => void;
};

/**
 * Opens the configured store. For S3 the bucket is asked once (HeadBucket) so that a wrong name, endpoint
 * or key fails the start with a message saying which, instead of the first upload.
 */
export async function openBlobStore(config: BlobStoreConfig): Promise<OpenBlobStore> {
  if (config.kind === "fs") {
    const store = new FsBlobStore(config.dir);
    const check = async () => {
      await store.has("0".repeat(64)); // creates the folders; fails when they cannot be
    };
    await check().catch((error: unknown) => {
      throw new ConfigError(`DOCUMENTS_DIR ${config.dir} cannot be used as the document store.`, {
        details: (error as Error).message,
        cause: error,
      });
    });
    return { store, description: `filesystem ${config.dir}`, check, close: () => {} };
  }
  const client = new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  });
  const where = `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ""}`;
  const check = async () => {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  };
  try {
    await check();
  } catch (error) {
    client.destroy();
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404)
      throw new ConfigError(`The document bucket ${where} does not exist.`, {
        details: "Create it, or set S3_BUCKET to one that exists.",
        cause: error,
      });
    if (status === 401 || status === 403)
      throw new ConfigError(`The document bucket ${where} refused the gateway's credentials.`, {
        details: "Check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or the AWS credential chain).",
        cause: error,
      });
    // Not answering (down, DNS, network): a later start may succeed.
    throw new RetryableError(`The document bucket ${where} does not answer.`, {
      details: (error as Error).message,
      cause: error,
    });
  }
  const store = new S3BlobStore({ client, bucket: config.bucket, prefix: config.prefix });
  return { store, description: where, check, close: () => client.destroy() };
}
