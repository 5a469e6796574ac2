import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, test } from "vitest";

const bundle = (entry: string) =>
  build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    metafile: true,
    platform: "browser",
    format: "esm",
    logLevel: "silent",
  });

describe("the browser entry (@carechain/documents/browser)", () => {
  test("default", async () => {
    // A browser bundler resolves every import: a node: module would fail here, as it would in the web build.
    const result = await bundle("./browser.ts");
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /node_modules\/(pino|prom-client|@aws-sdk)\//.test(input))).toEqual([]);
    expect(inputs.some((input) => input.includes("common/src/errors.ts"))).toBe(true);
    expect(inputs.some((input) => input.includes("common/src/index.ts"))).toBe(false);
  });

  test("error: the main entry is not browser-safe (the check can fail)", async () => {
    await expect(bundle("./index.ts")).rejects.toThrow(/node:/);
  });

  test("behavior: encrypts, wraps, unwraps and decrypts with only what it exports", async () => {
    const documents = await import("./browser.ts");
    const documentKey = documents.generateDocumentKey();
    const reader = documents.generateEncryptionKeyPair();
    const plain = new TextEncoder().encode("a document");
    const sealed: Uint8Array[] = [];
    for await (const part of documents.encryptStream([plain], documentKey)) sealed.push(part);
    const address = `0x${"12".repeat(20)}`;
    const contentHash = `0x${"34".repeat(32)}`;
    const wrapped = documents.wrapKey({
      documentKey,
      reader: address,
      readerPublicKey: reader.publicKey,
      contentHash,
    });
    const key = documents.unwrapKey({
      wrapped,
      reader: address,
      readerSecretKey: reader.secretKey,
      contentHash,
    });
    const opened: Uint8Array[] = [];
    for await (const part of documents.decryptStream(sealed, key)) opened.push(part);
    expect(new TextDecoder().decode(opened[0])).toBe("a document");
  });
});
