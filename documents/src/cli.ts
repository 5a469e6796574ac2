/**
 * npm run documents -- upload --patient 0x… --file report.pdf [--reader 0xaddress]…
 * npm run documents -- fetch --patient 0x… --record 0x<record id> --out report.pdf
 * npm run documents -- fetch --hash 0x… --out report.pdf
 *
 * Readers' public keys are their registered `encryptionKey`s, looked up through the gateway (identity).
 * `fetch --record` checks the bytes against the record's content hash; `--hash` against the one given.
 *
 * Environment (read here, at the entry point): CARECHAIN_GATEWAY_URL (default http://127.0.0.1:4000),
 * CARECHAIN_TOKEN (a gateway access token, from Sign-In with Ethereum), CARECHAIN_ADDRESS (the signed-in
 * account), CARECHAIN_ENCRYPTION_SECRET (0x + 64 hex: the X25519 secret of the registered encryptionKey).
 * Progress goes to stderr; the result (JSON) to stdout.
 */

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { ConfigError, parseConfig, runMain } from "@carechain/common";
import { z } from "zod";
import { DocumentsClient, type Progress } from "./client/client.ts";
import { encryptionPublicKey } from "./crypto/wrap.ts";

const address = z
  .string({ error: "set to an account address" })
  .regex(/^0x[0-9a-fA-F]{40}$/, "expected an address");
const key32 = z
  .string({ error: "set to an X25519 key: 0x + 64 hex characters" })
  .regex(/^0x[0-9a-fA-F]{64}$/, "expected 0x + 64 hex characters");
const envSchema = z.object({
  CARECHAIN_GATEWAY_URL: z.url().default("http://127.0.0.1:4000"),
  CARECHAIN_TOKEN: z.string({ error: "a gateway access token is needed" }).min(1),
  CARECHAIN_ADDRESS: address,
  CARECHAIN_ENCRYPTION_SECRET: key32,
});

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.slice(2), "hex"));

function progressBar(label: string) {
  const started = performance.now();
  let last = 0;
  return {
    update({ bytes, total }: Progress) {
      const now = performance.now();
      if (now - last < 100 && bytes !== total) return;
      last = now;
      const seconds = Math.max((now - started) / 1000, 0.001);
      const rate = `${(bytes / 1e6 / seconds).toFixed(1)} MB/s`;
      if (total) {
        const ratio = Math.min(bytes / total, 1);
        const width = 30;
        const filled = Math.round(ratio * width);
        process.stderr.write(
          `\r${label} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(ratio * 100).toFixed(1)}% ${rate}  `,
        );
      } else {
        process.stderr.write(`\r${label} ${(bytes / 1e6).toFixed(1)} MB ${rate}  `);
      }
    },
    done() {
      process.stderr.write("\n");
    },
  };
}

runMain(async (ctx) => {
  const { positionals, values } = parseArgs({
    args: ctx.argv,
    allowPositionals: true,
    options: {
      patient: { type: "string" },
      file: { type: "string" },
      reader: { type: "string", multiple: true },
      hash: { type: "string" },
      record: { type: "string" },
      out: { type: "string" },
    },
  });
  const command = positionals[0];
  const env = parseConfig(envSchema, ctx.env, "documents");
  const secretKey = bytes(env.CARECHAIN_ENCRYPTION_SECRET);
  const client = new DocumentsClient({
    gatewayUrl: env.CARECHAIN_GATEWAY_URL,
    token: env.CARECHAIN_TOKEN,
    address: env.CARECHAIN_ADDRESS,
    secretKey,
  });

  if (command === "upload") {
    if (!values.file || !values.patient) throw new ConfigError("upload needs --patient and --file.");
    for (const entry of values.reader ?? [])
      if (!address.safeParse(entry).success)
        throw new ConfigError(`--reader ${entry}: expected an account address (0x + 40 hex characters).`);
    // This account and the patient always; every reader's key as registered on chain, not as typed here.
    const readers = await client.readerKeys([
      env.CARECHAIN_ADDRESS,
      values.patient,
      ...(values.reader ?? []),
    ]);
    const own = readers.find((reader) => reader.address === env.CARECHAIN_ADDRESS.toLowerCase());
    if (!own || Buffer.compare(Buffer.from(own.publicKey), Buffer.from(encryptionPublicKey(secretKey))) !== 0)
      throw new ConfigError(
        "CARECHAIN_ENCRYPTION_SECRET is not the secret of this account's registered encryptionKey.",
      );
    const { size } = await stat(values.file);
    const bar = progressBar("upload");
    const result = await client.upload({
      patient: values.patient,
      source: createReadStream(values.file, { highWaterMark: 256 * 1024 }),
      readers,
      size,
      onProgress: (progress) => bar.update(progress),
    });
    bar.done();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  if (command === "fetch") {
    const byRecord = values.record !== undefined && values.patient !== undefined;
    if ((!byRecord && !values.hash) || !values.out)
      throw new ConfigError("fetch needs --patient and --record (or --hash, a content hash) and --out.");
    const bar = progressBar("download");
    await client.downloadTo({
      ...(byRecord ? { patient: values.patient!, recordId: values.record! } : { contentHash: values.hash! }),
      path: values.out,
      onProgress: (progress) => bar.update(progress),
    });
    bar.done();
    process.stdout.write(
      `${JSON.stringify({ record: values.record, contentHash: values.hash, out: values.out })}\n`,
    );
    return 0;
  }
  throw new ConfigError(
    "Usage: documents upload --patient 0x… --file PATH [--reader 0xaddress]… | fetch (--patient 0x… --record 0x… | --hash 0x…) --out PATH",
  );
});
