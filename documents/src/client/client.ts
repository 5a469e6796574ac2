import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { CareChainClient, RecordTypeCode } from "@carechain/contracts";
import { type Hex, stringToHex, zeroHash } from "viem";
import { type ByteSource, decryptStream, encryptStream, generateDocumentKey } from "../crypto/stream.ts";
import { encryptionPublicKey, unwrapKey, wrapKey } from "../crypto/wrap.ts";
import {
  DocumentsRequestError,
  IntegrityError,
  NoEncryptionKeyError,
  RecordNotVisibleError,
} from "../errors.ts";
import { requestErrorOf, wrappedKeyHeader } from "./protocol.ts";

/** A reader of a document: its address and the X25519 `encryptionKey` it registered on chain. */
export type DocumentReader = { address: string; publicKey: Uint8Array };

export type Progress = { bytes: number; total: number | undefined };

export { wrappedKeyHeader } from "./protocol.ts";

/** A record as the gateway shows it (the fields the document flow needs). */
export type RecordSummary = {
  id: string;
  author: string;
  contentHash: string;
  version: number;
  document: { contentHash: string; size: number } | null;
};

/** How the record is written on chain: by the author itself, or signed by it (EIP-712) and relayed. */
export type RecordWriter =
  | { author: CareChainClient; relayer?: undefined }
  | {
      author: CareChainClient;
      /** A registered hospital that submits the author's signed authorization (addRecordBySig). */
      relayer: CareChainClient;
    };

type GraphQLAnswer<T> = { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };

const recordPageQuery = `query DocumentRecordPage($patient: Address!, $after: String) {
  patient(address: $patient) {
    records(first: 100, after: $after, includeSuperseded: true) {
      edges { node { id author contentHash version document { contentHash size } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

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
    if (!response.ok) throw await requestErrorOf(response);
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
    const hasher = createHash("sha256");
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
    const contentHash = `0x${hasher.digest("hex")}`;
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
   * The low-level read: downloads the ciphertext of `contentHash`, spooling it to a temporary file while
   * hashing, and refuses it with IntegrityError unless its SHA-256 is `contentHash`; only then unwraps the
   * key and returns the plaintext as a stream (decrypted chunk by chunk, each authenticated). The caller
   * vouches for `contentHash`: `download` takes it from the record instead.
   */
  async downloadByHash(options: {
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
    const hasher = createHash("sha256");
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
      const actual = `0x${hasher.digest("hex")}`;
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

  /** A GraphQL request to the gateway as this account; GraphQL errors are returned, HTTP ones thrown. */
  async graphql<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLAnswer<T>> {
    const response = await this.request("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLAnswer<T>;
  }

  /**
   * Each account's registered X25519 `encryptionKey`, as the identity projections hold it (a patient's,
   * a doctor's or an organization's), never as a caller says. NoEncryptionKeyError names the accounts
   * without one this viewer may see.
   */
  async readerKeys(addresses: readonly string[]): Promise<DocumentReader[]> {
    const unique = [...new Set(addresses.map((address) => address.toLowerCase()))];
    if (unique.length === 0) return [];
    const fields = unique
      .map(
        (_, i) => `p${i}: patient(address: $a${i}) { encryptionKey }
        d${i}: doctor(address: $a${i}) { encryptionKey }
        o${i}: organization(address: $a${i}) { encryptionKey }`,
      )
      .join("\n");
    const declared = unique.map((_, i) => `$a${i}: Address!`).join(", ");
    const answer = await this.graphql<Record<string, { encryptionKey: string } | null>>(
      `query DocumentReaderKeys(${declared}) { ${fields} }`,
      Object.fromEntries(unique.map((address, i) => [`a${i}`, address])),
    );
    const data = answer.data ?? {};
    const missing: string[] = [];
    const readers = unique.flatMap((address, i) => {
      const key = (data[`p${i}`] ?? data[`d${i}`] ?? data[`o${i}`])?.encryptionKey;
      if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
        missing.push(address);
        return [];
      }
      return [{ address, publicKey: Uint8Array.from(Buffer.from(key.slice(2), "hex")) }];
    });
    if (missing.length > 0)
      throw new NoEncryptionKeyError("No registered encryption key visible for some readers.", {
        details: missing.join(", "),
      });
    return readers;
  }

  /** The record `recordId` of `patient` as the gateway shows it (any version), or undefined. */
  async findRecord(patient: string, recordId: string): Promise<RecordSummary | undefined> {
    const wanted = recordId.toLowerCase();
    let after: string | null = null;
    for (;;) {
      type Page = {
        patient: {
          records: {
            edges: { node: RecordSummary }[];
            pageInfo: { hasNextPage: boolean; endCursor: string | null };
          } | null;
        } | null;
      };
      const answer: GraphQLAnswer<Page> = await this.graphql<Page>(recordPageQuery, {
        patient: patient.toLowerCase(),
        after,
      });
      const records = answer.data?.patient?.records;
      if (!records) {
        const error = answer.errors?.[0];
        const code = error?.extensions?.code ?? "FORBIDDEN";
        throw new DocumentsRequestError(code === "FORBIDDEN" ? 403 : 400, code, error?.message ?? "");
      }
      const found = records.edges.find((edge) => edge.node.id.toLowerCase() === wanted);
      if (found) return found.node;
      if (!records.pageInfo.hasNextPage || !records.pageInfo.endCursor) return undefined;
      after = records.pageInfo.endCursor;
    }
  }

  /**
   * The one call that adds a document to a patient's record: looks up the readers' keys (this account,
   * the patient, and `readers`) in the identity projections, encrypts and uploads the document, writes
   * the record on chain with the document's hash (`addRecord`, `amendRecord` when `previousRecordId` is
   * given, or the author's EIP-712 authorization relayed by `write.relayer`), and returns once the record
   * with its document is visible through the gateway (RecordNotVisibleError after `visibleWithinMs`).
   */
  async addRecordWithDocument(options: {
    patient: string;
    recordType: RecordTypeCode;
    source: ByteSource | Readable;
    write: RecordWriter;
    /** More readers besides this account and the patient (e.g. the patient's current grantees). */
    readers?: readonly string[];
    recordId?: Hex;
    previousRecordId?: Hex;
    size?: number;
    onProgress?: (progress: Progress) => void;
    visibleWithinMs?: number;
  }): Promise<{ recordId: Hex; contentHash: Hex; size: number; transactionHash: Hex }> {
    const author = options.write.author.account?.toLowerCase();
    if (author !== this.address)
      throw new TypeError("The record's author must be this client's account (the uploader).");
    const readers = await this.readerKeys([this.address, options.patient, ...(options.readers ?? [])]);
    // A registered key that is not ours would make the document unreadable to its own author.
    const own = readers.find((reader) => reader.address === this.address)!;
    if (Buffer.compare(Buffer.from(own.publicKey), Buffer.from(encryptionPublicKey(this.options.secretKey))))
      throw new NoEncryptionKeyError(
        "This account's registered encryptionKey is not the one of its secret key.",
        {
          details: this.address,
        },
      );
    const uploaded = await this.upload({
      patient: options.patient,
      source: options.source,
      readers,
      size: options.size,
      onProgress: options.onProgress,
    });
    const contentHash = uploaded.contentHash as Hex;
    // The pointer names the blob by its hash only: no personal data on chain.
    const storagePointer = stringToHex(uploaded.pointer);
    const patient = options.patient as Hex;
    const { author: authorClient, relayer } = options.write;
    let written: { recordId: Hex; hash: Hex };
    if (relayer) {
      const signed = await authorClient.signRecordAuthorization({
        patient,
        recordId: options.recordId,
        recordType: options.recordType,
        contentHash,
        storagePointer,
        previousRecordId: options.previousRecordId ?? zeroHash,
      });
      const result = await relayer.addRecordBySig(signed);
      written = { recordId: signed.authorization.recordId, hash: result.hash };
    } else if (options.previousRecordId) {
      const result = await authorClient.amendRecord({
        previousRecordId: options.previousRecordId,
        recordId: options.recordId,
        contentHash,
        storagePointer,
      });
      written = { recordId: result.recordId, hash: result.hash };
    } else {
      const result = await authorClient.addRecord({
        patient,
        recordId: options.recordId,
        recordType: options.recordType,
        contentHash,
        storagePointer,
      });
      written = { recordId: result.recordId, hash: result.hash };
    }
    const deadline = Date.now() + (options.visibleWithinMs ?? 60_000);
    for (;;) {
      const record = await this.findRecord(options.patient, written.recordId);
      if (record?.document?.contentHash === contentHash) break;
      if (Date.now() > deadline)
        throw new RecordNotVisibleError("The record is on chain but not yet visible through the gateway.", {
          details: `record ${written.recordId}, transaction ${written.hash}`,
        });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { recordId: written.recordId, contentHash, size: uploaded.size, transactionHash: written.hash };
  }

  /**
   * Reads the document of a record: the content hash comes from the record, on chain when `chain` is
   * given (RecordRegistry.recordOf), else as the gateway indexed it; bytes with another hash are refused
   * (IntegrityError) before anything is decrypted with this account's key.
   */
  async download(options: {
    patient: string;
    recordId: string;
    chain?: Pick<CareChainClient, "read">;
    onProgress?: (progress: Progress) => void;
  }): Promise<AsyncIterable<Uint8Array>> {
    let contentHash: string;
    if (options.chain) {
      const [patient, , , hash] = await options.chain.read.recordRegistry.read.recordOf([
        options.recordId as Hex,
      ]);
      if (patient.toLowerCase() !== options.patient.toLowerCase())
        throw new DocumentsRequestError(404, "NOT_FOUND", "No such record of this patient on chain.");
      contentHash = hash;
    } else {
      const record = await this.findRecord(options.patient, options.recordId);
      if (!record) throw new DocumentsRequestError(404, "NOT_FOUND", "No such record of this patient.");
      contentHash = record.contentHash;
    }
    return this.downloadByHash({ contentHash, onProgress: options.onProgress });
  }

  /** Downloads (by record, or by a hash the caller vouches for), verifies and decrypts into a file (written under a temporary name, renamed when complete). */
  async downloadTo(
    options: ({ contentHash: string } | { patient: string; recordId: string }) & {
      path: string;
      onProgress?: (progress: Progress) => void;
    },
  ): Promise<void> {
    const plain =
      "contentHash" in options ? await this.downloadByHash(options) : await this.download(options);
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
   * After granting `grantee` (an address, or a reader with its key) read access: wraps the key of each of
   * this patient's documents for the grantee (downloading this account's own wrapped keys, unwrapping them
   * here, rewrapping, uploading). Returns the content hashes shared. Documents without a key for this
   * account are skipped.
   */
  async shareDocumentsWith(grantee: string | DocumentReader): Promise<string[]> {
    // An address: its key as the identity projections hold it (a reader given with its key is trusted).
    const [reader] = typeof grantee === "string" ? await this.readerKeys([grantee]) : [grantee];
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
        await this.addKeys(document.contentHash, documentKey, [reader!]);
      } finally {
        documentKey.fill(0);
      }
      shared.push(document.contentHash);
    }
    return shared;
  }
}
