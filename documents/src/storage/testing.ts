import S3rver from "s3rver";

/**
 * For tests: a real S3 API server (s3rver) on a free 127.0.0.1 port with `buckets`, its files under
 * `directory`. Its static keys are `S3RVER` / `S3RVER`.
 */
export async function startS3Server(options: {
  directory: string;
  buckets: readonly string[];
}): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return { endpoint: `http://127.0.0.1:${port}`, close: () => server.close() };
}
