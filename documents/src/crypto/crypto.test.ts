import { randomBytes } from "node:crypto";
import { gcm } from "@noble/ciphers/aes";
import { describe, expect, test } from "vitest";
import { IntegrityError } from "../errors.ts";
import { decryptStream, encryptStream, generateDocumentKey, headerSize, tagSize } from "./stream.ts";
import {
  deriveEncryptionKeyPair,
  encryptionPublicKey,
  generateEncryptionKeyPair,
  unwrapKey,
  wrapKey,
  wrappedKeySize,
} from "./wrap.ts";

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const piece of source) out.push(piece);
  return out;
}
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const reader = "0x1111111111111111111111111111111111111111";
const contentHash = `0x${"ab".repeat(32)}`;

describe("document stream encryption", () => {
  test("default", async () => {
    const key = generateDocumentKey();
    const plain = randomBytes(10_000);
    const sealed = await collect(
      encryptStream([plain.subarray(0, 3000), plain.subarray(3000)], key, { chunkSize: 1024 }),
    );
    // header + 9 full chunks + 1 final chunk of 784 bytes
    expect(sealed).toHaveLength(11);
    expect(concat(sealed).length).toBe(headerSize + 10_000 + 10 * tagSize);
    expect(Buffer.from(concat(await collect(decryptStream(sealed, key))))).toEqual(plain);
  });

  test.each([0, 1, 1024, 2048, 2049])("behavior: round trip of %i bytes", async (size) => {
    const key = generateDocumentKey();
    const plain = randomBytes(size);
    const sealed = concat(await collect(encryptStream([plain], key, { chunkSize: 1024 })));
    // the decryptor does not depend on how the ciphertext is cut
    const pieces = [];
    for (let i = 0; i < sealed.length; i += 333) pieces.push(sealed.subarray(i, i + 333));
    expect(Buffer.from(concat(await collect(decryptStream(pieces, key))))).toEqual(plain);
  });

  test("behavior: the same content encrypts differently each time", async () => {
    const key = generateDocumentKey();
    const a = concat(await collect(encryptStream([Buffer.from("same")], key)));
    const b = concat(await collect(encryptStream([Buffer.from("same")], key)));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  async function sealedChunks(size = 4096, chunkSize = 1024) {
    const key = generateDocumentKey();
    const parts = await collect(encryptStream([randomBytes(size)], key, { chunkSize }));
    return { key, header: parts[0]!, chunks: parts.slice(1) };
  }
  const refused = async (parts: Uint8Array[], key: Uint8Array) =>
    expect(collect(decryptStream(parts, key))).rejects.toBeInstanceOf(IntegrityError);

  test("error: tampered ciphertext", async () => {
    const { key, header, chunks } = await sealedChunks();
    chunks[1]![7]! ^= 1;
    await refused([header, ...chunks], key);
  });

  test("error: tampered header", async () => {
    const { key, header, chunks } = await sealedChunks();
    header[12]! ^= 1;
    await refused([header, ...chunks], key);
  });

  test("error: wrong key", async () => {
    const { header, chunks } = await sealedChunks();
    await refused([header, ...chunks], generateDocumentKey());
  });

  test("error: reordered chunks", async () => {
    const { key, header, chunks } = await sealedChunks();
    await refused([header, chunks[1]!, chunks[0]!, ...chunks.slice(2)], key);
  });

  test("error: truncated at a chunk boundary", async () => {
    const { key, header, chunks } = await sealedChunks(4096 + 10);
    await refused([header, ...chunks.slice(0, -1)], key);
  });

  test("error: truncated inside a chunk, or no chunk at all", async () => {
    const { key, header, chunks } = await sealedChunks();
    await refused([header, ...chunks.slice(0, -1), chunks.at(-1)!.subarray(0, 100)], key);
    await refused([header], key);
    await refused([header.subarray(0, 5)], key);
  });

  test("error: final chunk dropped and an earlier chunk appended", async () => {
    const { key, header, chunks } = await sealedChunks();
    await refused([header, ...chunks.slice(0, -1), chunks[0]!], key);
  });
});

describe("document stream encryption: the format", () => {
  test("behavior: chunks are plain AES-256-GCM (nonce prefix | index, aad header | index | final): another implementation reads and writes them", async () => {
    const key = generateDocumentKey();
    const plain = randomBytes(1500);
    const [head, first, last] = await collect(encryptStream([plain], key, { chunkSize: 1024 }));
    const nonce = (index: number) => {
      const n = new Uint8Array(12);
      n.set(head!.subarray(9, 17), 0);
      new DataView(n.buffer).setUint32(8, index);
      return n;
    };
    const aad = (index: number, final: boolean) => {
      const a = new Uint8Array(headerSize + 5);
      a.set(head!, 0);
      new DataView(a.buffer).setUint32(headerSize, index);
      a[headerSize + 4] = final ? 1 : 0;
      return a;
    };
    // @noble/ciphers' gcm (the implementation documents were first written with) opens what is sealed here…
    expect(Buffer.from(gcm(key, nonce(0), aad(0, false)).decrypt(first!))).toEqual(plain.subarray(0, 1024));
    expect(Buffer.from(gcm(key, nonce(1), aad(1, true)).decrypt(last!))).toEqual(plain.subarray(1024));
    // …and what it sealed is read here.
    const noble = [
      head!,
      gcm(key, nonce(0), aad(0, false)).encrypt(plain.subarray(0, 1024)),
      gcm(key, nonce(1), aad(1, true)).encrypt(plain.subarray(1024)),
    ];
    expect(Buffer.from(concat(await collect(decryptStream(noble, key))))).toEqual(plain);
  });
});

describe("document key wrapping", () => {
  test("args: a key pair derived from a seed is stable, an X25519 pair, and not the seed", () => {
    const seed = new Uint8Array(32).fill(7);
    const pair = deriveEncryptionKeyPair(seed);
    expect(deriveEncryptionKeyPair(seed)).toEqual(pair);
    expect(encryptionPublicKey(pair.secretKey)).toEqual(pair.publicKey);
    expect(Buffer.from(pair.secretKey)).not.toEqual(Buffer.from(seed));
    expect(() => deriveEncryptionKeyPair(new Uint8Array(31))).toThrow(TypeError);
  });

  test("default", () => {
    const documentKey = generateDocumentKey();
    const pair = generateEncryptionKeyPair();
    const wrapped = wrapKey({ documentKey, reader, readerPublicKey: pair.publicKey, contentHash });
    expect(wrapped).toHaveLength(wrappedKeySize);
    expect(unwrapKey({ wrapped, reader, readerSecretKey: pair.secretKey, contentHash })).toEqual(documentKey);
  });

  test("behavior: the reader address is case-insensitive, each wrap is different", () => {
    const documentKey = generateDocumentKey();
    const pair = generateEncryptionKeyPair();
    const a = wrapKey({ documentKey, reader, readerPublicKey: pair.publicKey, contentHash });
    const b = wrapKey({ documentKey, reader, readerPublicKey: pair.publicKey, contentHash });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(
      unwrapKey({
        wrapped: b,
        reader: reader.toUpperCase().replace("0X", "0x"),
        readerSecretKey: pair.secretKey,
        contentHash,
      }),
    ).toEqual(documentKey);
  });

  test("error: wrong secret key, reader, content hash or tampered wrap", () => {
    const documentKey = generateDocumentKey();
    const pair = generateEncryptionKeyPair();
    const wrapped = wrapKey({ documentKey, reader, readerPublicKey: pair.publicKey, contentHash });
    const other = generateEncryptionKeyPair();
    const unwrapRefused = /Not a wrapped document key|cannot be unwrapped with this key/;
    expect(() => unwrapKey({ wrapped, reader, readerSecretKey: other.secretKey, contentHash })).toThrow(
      unwrapRefused,
    );
    expect(() =>
      unwrapKey({ wrapped, reader: `0x${"22".repeat(20)}`, readerSecretKey: pair.secretKey, contentHash }),
    ).toThrow(unwrapRefused);
    expect(() =>
      unwrapKey({ wrapped, reader, readerSecretKey: pair.secretKey, contentHash: `0x${"cd".repeat(32)}` }),
    ).toThrow(unwrapRefused);
    const tampered = wrapped.slice();
    tampered[50]! ^= 1;
    expect(() =>
      unwrapKey({ wrapped: tampered, reader, readerSecretKey: pair.secretKey, contentHash }),
    ).toThrow(unwrapRefused);
    expect(() =>
      unwrapKey({ wrapped: wrapped.subarray(1), reader, readerSecretKey: pair.secretKey, contentHash }),
    ).toThrow(unwrapRefused);
  });
});
