/**
 * npm run documents -- upload --patient 0x… --file report.pdf [--reader 0xaddr:0xpublickey]…
 * npm run documents -- fetch --hash 0x… --out report.pdf
 *
 * Environment (read here, at the entry point): CARECHAIN_GATEWAY_URL (default http://127.0.0.1:4000),
 * CARECHAIN_TOKEN (a gateway access token, from Sign-In with Ethereum), CARECHAIN_ADDRESS (the signed-in
 * account), CARECHAIN_ENCRYPTION_SECRET (0x + 64 hex: the X25519 secret of the registered encryptionKey).
 * Progress goes to stderr; the result (JSON) to stdout.
 */

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type DocumentReader, DocumentsClient, type Progress } from "./client/client.ts";
import { encryptionPublicKey } from "./crypto/wrap.ts";

function hex(value: string | undefined, bytes: number, what: string): Uint8Array {
  if (!value || !new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`).test(value))
    throw new Error(`${what}: expected 0x + ${bytes * 2} hex characters.`);
  return Uint8Array.from(Buffer.from(value.slice(2), "hex"));
}

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

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      patient: { type: "string" },
      file: { type: "string" },
      reader: { type: "string", multiple: true },
      hash: { type: "string" },
      out: { type: "string" },
    },
  });
  const command = positionals[0];
  const env = process.env;
  const secretKey = hex(env.CARECHAIN_ENCRYPTION_SECRET, 32, "CARECHAIN_ENCRYPTION_SECRET");
  const address = env.CARECHAIN_ADDRESS ?? "";
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new Error("CARECHAIN_ADDRESS: expected an address.");
  if (!env.CARECHAIN_TOKEN) throw new Error("CARECHAIN_TOKEN: a gateway access token is needed.");
  const client = new DocumentsClient({
    gatewayUrl: env.CARECHAIN_GATEWAY_URL ?? "http://127.0.0.1:4000",
    token: env.CARECHAIN_TOKEN,
    address,
    secretKey,
  });

  if (command === "upload") {
    if (!values.file || !values.patient) throw new Error("upload needs --patient and --file.");
    const readers: DocumentReader[] = [{ address, publicKey: encryptionPublicKey(secretKey) }];
    for (const entry of values.reader ?? []) {
      const [readerAddress, publicKey] = entry.split(":");
      if (!readerAddress || !/^0x[0-9a-fA-F]{40}$/.test(readerAddress))
        throw new Error(`--reader ${entry}: expected 0xaddress:0xpublickey.`);
      readers.push({ address: readerAddress, publicKey: hex(publicKey, 32, `--reader ${entry}`) });
    }
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
    return;
  }
  if (command === "fetch") {
    if (!values.hash || !values.out)
      throw new Error("fetch needs --hash (the on-chain content hash) and --out.");
    const bar = progressBar("download");
    await client.downloadTo({
      contentHash: values.hash,
      path: values.out,
      onProgress: (progress) => bar.update(progress),
    });
    bar.done();
    process.stdout.write(`${JSON.stringify({ contentHash: values.hash, out: values.out })}\n`);
    return;
  }
  throw new Error(
    "Usage: documents upload --patient 0x… --file PATH [--reader 0xaddr:0xkey]… | fetch --hash 0x… --out PATH",
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
