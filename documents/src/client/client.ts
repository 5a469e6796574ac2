import { randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sha256 } from "@noble/hashes/sha2";
import { bytesToHex } from "@noble/hashes/utils";
import { type ByteSource, decryptStream, encryptStream, generateDocumentKey } from "../crypto/stream.ts";
import { unwrapKey, wrapKey } from "../crypto/wrap.ts";
import { DocumentsRequestError, IntegrityError } from "../errors.ts";

/** A reader of a document: its address and the X25519 `encryptionKey` it registered on chain. */
export type DocumentReader = { address: string; publicKey: Uint8Array };

export type Progress = { bytes: number; total: number | undefined };

export const wrappedKeyHeader = "x-carechain-wrapped-key";

type ListedDocument = {
  contentHash: string;
  patient: string;
  author: string;
  size: number;
  createdAt: string;
  wrappedKey: string | null;
};

/**
 * The client side of encrypted documents: it encrypts before upload and decrypts after download, so the
 * gateway and the store only ever see ciphertext and wrapped keys. `secretKey` is the X25519 secret of
 * the account's registered `encryptionKey`; `token` a gateway access token of `address`.
 */
export class DocumentsClient {
  private readonly base: string;
  readonly address: string;

  constructor(
    private readonly options: {
      gatewayUrl: string;
      token: string;
      address: string;
      secretKey: Uint8Array;
      /** Where downloads are spooled while their hash is checked (the OS temp dir by default). */
      tempDir?: string;
    },
  ) {
    this.base = options.gatewayUrl.replace(/\/$/, "");
    this.address = options.address.toLowerCase();
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.base}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${this.options.token}`, ...(init.headers as Record<string, string>) },
    });
    if (!response.ok) {
      const body = (await response.json().catch(() => undefined)) as
        | { error?: { code?: string; message?: string } }
        | undefined;
      throw new DocumentsRequestError(
        response.status,
        body?.error?.code ?? `HTTP_${response.status}`,
        body?.error?.message ?? response.statusText,
      );
    }
    return response;
  }

  /**
   * POSTs a byte stream with node:http (paced by the socket: bounded memory; undici's fetch was measured
   * to buffer a streamed request body) and returns the JSON answer, or throws DocumentsRequestError.
   * An answer that arrives before the body is sent (413) wins over the broken pipe that follows.
   */
  private async postStream(path: string, source: AsyncIterable<Uint8Array>): Promise<unknown> {
    const url = new URL(`${this.base}${path}`);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.options.token}`,
        "content-type": "application/octet-stream",
        "transfer-encoding": "chunked",
      },
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
    });
    const sending = pipeline(Readable.from(source), req).then(
      () => undefined,
      (error: unknown) => error,
    );
    let res: IncomingMessage;
    try {
      res = await response;
    } catch (error) {
      const sendError = await sending;
      throw sendError instanceof Error ? sendError : error;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const body = (() => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return undefined;
      }
    })();
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new DocumentsRequestError(status, error?.code ?? `HTTP_${status}`, error?.message ?? text);
    }
    const sendError = await sending;
    if (sendError) throw sendError;
    return body;
  }

  /**
   * Encrypts `source` with a fresh document key, streams the ciphertext to the gateway, checks the hash
   * it answers against the one computed here, and stores the key wrapped for every reader (always
   * including this account). Returns the content hash to put on chain and the pointer.
   */
  async upload(options: {
    patient: string;
    source: ByteSource | Readable;
    readers: DocumentReader[];
    /** Plaintext size, for progress only. */
    size?: number;
    onProgress?: (progress: Progress) => void;
  }): Promise<{ contentHash: string; pointer: string; size: number }> {
    const documentKey = generateDocumentKey();
    const hasher = sha256.create();
    let bytes = 0;
    const total = options.size;
    const onProgress = options.onProgress;
    async function* counted(source: ByteSource | Readable): AsyncGenerator<Uint8Array> {
      for await (const chunk of source as AsyncIterable<Uint8Array>) {
        bytes += chunk.length;
        onProgress?.({ bytes, total });
        yield chunk;
      }
    }
    async function* hashed(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        hasher.update(chunk);
        yield chunk;
      }
    }
    const response = await this.postStream(
      `/documents?patient=${options.patient.toLowerCase()}`,
      hashed(encryptStream(counted(options.source), documentKey)),
    );
    const result = response as { contentHash: string; pointer: string; size: number };
    const contentHash = `0x${bytesToHex(hasher.digest())}`;
    if (result.contentHash !== contentHash)
      throw new IntegrityError("The gateway stored a different ciphertext than the one sent.", {
        details: `sent ${contentHash}, stored ${result.contentHash}`,
      });
    const readers = new Map(options.readers.map((reader) => [reader.address.toLowerCase(), reader]));
    if (!readers.has(this.address))
      throw new TypeError("The uploader must be one of the readers (its own key is needed to share later).");
    await this.addKeys(contentHash, documentKey, [...readers.values()]);
    documentKey.fill(0);
    return { ...result, contentHash };
  }

  /** Wraps `documentKey` for each reader and stores the wrapped keys (patient or author only). */
  async addKeys(contentHash: string, documentKey: Uint8Array, readers: DocumentReader[]): Promise<void> {
    for (let i = 0; i < readers.length; i += 100) {
      const keys = readers.slice(i, i + 100).map((reader) => ({
        reader: reader.address.toLowerCase(),
        wrappedKey: Buffer.from(
          wrapKey({ documentKey, reader: reader.address, readerPublicKey: reader.publicKey, contentHash }),
        ).toString("base64"),
      }));
      await this.request(`/documents/${contentHash}/keys`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ keys }),
      });
    }
  }

  /** The documents of a patient this account may read, each with this account's wrapped key (or null). */
  async list(patient: string): Promise<ListedDocument[]> {
    const response = await this.request(`/documents?patient=${patient.toLowerCase()}`);
    return ((await response.json()) as { documents: ListedDocument[] }).documents;
  }

  /**
   * Downloads the ciphertext of `contentHash` (the record's on-chain hash), spooling it to a temporary
   * file while hashing, and refuses it with IntegrityError unless its SHA-256 is `contentHash`; only then
   * unwraps the key and returns the plaintext as a stream (decrypted chunk by chunk, each authenticated).
   */
  async download(options: {
    contentHash: string;
    onProgress?: (progress: Progress) => void;
  }): Promise<AsyncIterable<Uint8Array>> {
    const contentHash = options.contentHash.toLowerCase();
    const response = await this.request(`/documents/${contentHash}`);
    const wrapped = response.headers.get(wrappedKeyHeader);
    if (!wrapped || !response.body) {
      await response.body?.cancel();
      throw new DocumentsRequestError(404, "NO_KEY", "No key of this document is wrapped for you.");
    }
    const total = Number(response.headers.get("content-length")) || undefined;
    const spool = join(this.options.tempDir ?? tmpdir(), `carechain-document-${randomUUID()}`);
    const hasher = sha256.create();
    let bytes = 0;
    const onProgress = options.onProgress;
    try {
      await pipeline(
        Readable.fromWeb(response.body as import("node:stream/web").ReadableStream<Uint8Array>),
        async function* (chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            hasher.update(chunk);
            bytes += chunk.length;
            onProgress?.({ bytes, total });
            yield chunk;
          }
        },
        createWriteStream(spool, { flags: "wx", mode: 0o600 }),
      );
      const actual = `0x${bytesToHex(hasher.digest())}`;
      if (actual !== contentHash)
        throw new IntegrityError("The downloaded document does not match its on-chain content hash.", {
          details: `expected ${contentHash}, got ${actual}`,
        });
      const documentKey = unwrapKey({
        wrapped: Uint8Array.from(Buffer.from(wrapped, "base64")),
        reader: this.address,
        readerSecretKey: this.options.secretKey,
        contentHash,
      });
      return (async function* () {
        try {
          yield* decryptStream(createReadStream(spool), documentKey);
        } finally {
          documentKey.fill(0);
          await rm(spool, { force: true });
        }
      })();
    } catch (error) {
      await rm(spool, { force: true });
      throw error;
    }
  }

  /** Downloads, verifies and decrypts into a file (written under a temporary name, renamed when complete). */
  async downloadTo(options: {
    contentHash: string;
    path: string;
    onProgress?: (progress: Progress) => void;
  }): Promise<void> {
    const plain = await this.download(options);
    const partial = `${options.path}.partial-${randomUUID()}`;
    try {
      await pipeline(Readable.from(plain), createWriteStream(partial, { flags: "wx", mode: 0o600 }));
      await rename(partial, options.path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /**
   * After granting `grantee` read access: wraps the key of each of this patient's documents for the
   * grantee (downloading this account's own wrapped keys, unwrapping them here, rewrapping, uploading).
   * Returns the content hashes shared. Documents without a key for this account are skipped.
   */
  async shareDocumentsWith(grantee: DocumentReader): Promise<string[]> {
    const shared: string[] = [];
    for (const document of await this.list(this.address)) {
      if (!document.wrappedKey) continue;
      const documentKey = unwrapKey({
        wrapped: Uint8Array.from(Buffer.from(document.wrappedKey, "base64")),
        reader: this.address,
        readerSecretKey: this.options.secretKey,
        contentHash: document.contentHash,
      });
      try {
        await this.addKeys(document.contentHash, documentKey, [grantee]);
      } finally {
        documentKey.fill(0);
      }
      shared.push(document.contentHash);
    }
    return shared;
  }
}
