// Record documents in the browser with @carechain/documents' own format and key wrapping (its browser
// entry): encrypted here before the upload, checked against the record's hash and decrypted here after the
// download. The gateway and its store only see ciphertext and wrapped keys.
import { NonRetryableError } from "@carechain/common/errors";
import {
  DocumentsRequestError,
  decryptStream,
  encryptStream,
  generateDocumentKey,
  IntegrityError,
  requestErrorOf,
  unwrapKey,
  wrapKey,
  wrappedKeyHeader,
} from "@carechain/documents/browser";
import { bytesToHex, type Hex, hexToBytes } from "viem";
import { GatewayUnreachableError } from "./graphql/client.ts";

/** Who may open a document: an account and the X25519 `encryptionKey` it registered on chain. */
export type DocumentReader = { address: string; encryptionKey: string };

export type Gateway = { gatewayUrl: string; token: string };

async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** SHA-256 of the ciphertext, as records hold it on chain (`contentHash`). */
export async function contentHashOf(bytes: Uint8Array): Promise<Hex> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>)));
}

export const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
export const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function request({ gatewayUrl, token }: Gateway, path: string, init: RequestInit = {}) {
  let response: Response;
  try {
    response = await fetch(`${gatewayUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
  } catch {
    throw new GatewayUnreachableError(gatewayUrl);
  }
  if (!response.ok) throw await requestErrorOf(response);
  return response;
}

/** `documentKey` wrapped for `reader`'s registered key, bound to the document's hash, as the gateway stores it. */
function wrapFor(documentKey: Uint8Array, reader: DocumentReader, contentHash: Hex) {
  return {
    reader: reader.address.toLowerCase(),
    wrappedKey: toBase64(
      wrapKey({
        documentKey,
        reader: reader.address,
        readerPublicKey: hexToBytes(reader.encryptionKey as Hex),
        contentHash,
      }),
    ),
  };
}

/** A document encrypted here, not stored yet: its ciphertext, hash, and the key wrapped for each reader. */
export type SealedDocument = {
  ciphertext: Uint8Array;
  contentHash: Hex;
  keys: { reader: string; wrappedKey: string }[];
};

/**
 * Encrypts `plain` under a fresh document key and wraps that key for each reader. The whole document is held
 * in memory: a page reads a picked file whole anyway.
 */
export async function sealDocument(plain: Uint8Array, readers: DocumentReader[]): Promise<SealedDocument> {
  const documentKey = generateDocumentKey();
  try {
    const ciphertext = await collect(encryptStream([plain], documentKey));
    const contentHash = await contentHashOf(ciphertext);
    const keys = readers.map((reader) => wrapFor(documentKey, reader, contentHash));
    return { ciphertext, contentHash, keys };
  } finally {
    documentKey.fill(0);
  }
}

/**
 * Uploads a sealed document for `patient`, checks the hash the gateway stored against the one computed here,
 * and stores its wrapped keys.
 */
export async function storeDocument(
  gateway: Gateway,
  { patient, sealed }: { patient: string; sealed: SealedDocument },
): Promise<{ contentHash: Hex; pointer: string; size: number }> {
  const response = await request(gateway, `/documents?patient=${patient.toLowerCase()}`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream" },
    body: sealed.ciphertext as Uint8Array<ArrayBuffer>,
  });
  const stored = (await response.json()) as { contentHash: string; pointer: string; size: number };
  if (stored.contentHash !== sealed.contentHash)
    throw new IntegrityError("The gateway stored a different ciphertext than the one sent.");
  await request(gateway, `/documents/${sealed.contentHash}/keys`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ keys: sealed.keys }),
  });
  return { contentHash: sealed.contentHash, pointer: stored.pointer, size: stored.size };
}

/** Encrypts `plain` for its readers and uploads it for `patient` (sealDocument, then storeDocument). */
export async function uploadDocument(
  gateway: Gateway,
  options: { patient: string; plain: Uint8Array; readers: DocumentReader[] },
): Promise<{ contentHash: Hex; pointer: string; size: number }> {
  const sealed = await sealDocument(options.plain, options.readers);
  return storeDocument(gateway, { patient: options.patient, sealed });
}

/** The ciphertext named `contentHash` and this reader's wrapped key (base64), as the gateway serves them. */
export async function fetchDocument(
  gateway: Gateway,
  contentHash: Hex,
): Promise<{ ciphertext: Uint8Array; wrappedKey: string | null }> {
  const response = await request(gateway, `/documents/${contentHash.toLowerCase()}`);
  const wrappedKey = response.headers.get(wrappedKeyHeader);
  return { ciphertext: new Uint8Array(await response.arrayBuffer()), wrappedKey };
}

/**
 * Refuses bytes whose SHA-256 is not `contentHash` (the hash the caller read on chain) with IntegrityError
 * before anything is decrypted, then unwraps this reader's key and decrypts.
 */
export async function unsealDocument(options: {
  ciphertext: Uint8Array;
  wrappedKey: string | null;
  contentHash: Hex;
  reader: string;
  secretKey: Uint8Array;
}): Promise<Uint8Array> {
  const contentHash = options.contentHash.toLowerCase() as Hex;
  if (!options.wrappedKey)
    throw new DocumentsRequestError(404, "NO_KEY", "No key of this document is wrapped for you.");
  if ((await contentHashOf(options.ciphertext)) !== contentHash)
    throw new IntegrityError("its bytes do not match the hash of its record on chain.");
  const documentKey = unwrapKey({
    wrapped: fromBase64(options.wrappedKey),
    reader: options.reader,
    readerSecretKey: options.secretKey,
    contentHash,
  });
  try {
    return await collect(decryptStream([options.ciphertext], documentKey));
  } finally {
    documentKey.fill(0);
  }
}

/** Downloads the document named `contentHash` (the record's hash, from the chain), checks and decrypts it. */
export async function openDocument(
  gateway: Gateway,
  options: { contentHash: Hex; reader: string; secretKey: Uint8Array },
): Promise<Uint8Array> {
  const fetched = await fetchDocument(gateway, options.contentHash);
  return unsealDocument({ ...fetched, ...options });
}

/** One of a patient's documents as `GET /documents?patient=` lists it, with the caller's wrapped key. */
export type ListedDocument = { contentHash: Hex; author: string; wrappedKey: string | null };

/** The patient's documents (at most the gateway's 1000 newest), each with this account's wrapped key. */
export async function listDocuments(gateway: Gateway, patient: string): Promise<ListedDocument[]> {
  const response = await request(gateway, `/documents?patient=${patient.toLowerCase()}`);
  return ((await response.json()) as { documents: ListedDocument[] }).documents;
}

/**
 * The Node client's `shareDocumentsWith` in the browser (that client is built on Node's streams): after the
 * patient granted `grantee` READ_RECORDS, each of the patient's documents whose key is wrapped for the patient
 * gets its key unwrapped here with the patient's secret and wrapped for the grantee's registered key, then
 * posted (`POST /documents/:hash/keys`). `skip` leaves documents out (the patient's own profile). `secretKey`
 * is asked for only when there is something to share (it may ask the wallet). Answers the hashes shared;
 * `onProgress` after each document.
 */
export async function shareDocuments(
  gateway: Gateway,
  options: {
    patient: string;
    secretKey: () => Promise<Uint8Array>;
    grantee: DocumentReader;
    skip?: (contentHash: Hex) => boolean;
    onProgress?: (progress: { shared: number; total: number }) => void;
  },
): Promise<Hex[]> {
  const documents = (await listDocuments(gateway, options.patient)).filter(
    (d) => d.wrappedKey && !options.skip?.(d.contentHash),
  );
  const shared: Hex[] = [];
  if (documents.length === 0) return shared;
  const secretKey = await options.secretKey();
  options.onProgress?.({ shared: 0, total: documents.length });
  for (const document of documents) {
    const contentHash = document.contentHash.toLowerCase() as Hex;
    const documentKey = unwrapKey({
      wrapped: fromBase64(document.wrappedKey!),
      reader: options.patient,
      readerSecretKey: secretKey,
      contentHash,
    });
    let key: { reader: string; wrappedKey: string };
    try {
      key = wrapFor(documentKey, options.grantee, contentHash);
    } finally {
      documentKey.fill(0);
    }
    await request(gateway, `/documents/${contentHash}/keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ keys: [key] }),
    });
    shared.push(contentHash);
    options.onProgress?.({ shared: shared.length, total: documents.length });
  }
  return shared;
}

/** A document error as a sentence that says what happened and what to do. */
export function documentMessage(error: unknown): string {
  if (error instanceof IntegrityError)
    return `The document was changed and was not opened: ${error.shortMessage}`;
  if (error instanceof DocumentsRequestError) {
    if (error.code === "FORBIDDEN") return "You have no access to this document.";
    if (error.code === "NO_KEY") return "This document was not shared with you: ask the patient to share it.";
    if (error.code === "PAYLOAD_TOO_LARGE") return "The document is too large for CareChain.";
    return `The gateway refused the document (${error.code}).`;
  }
  if (error instanceof GatewayUnreachableError) return error.message;
  // What is left of the documents' refusals: the wrapped key does not open with this account's key.
  if (error instanceof NonRetryableError)
    return "The document's key does not open with your key: it was wrapped for another key of yours.";
  return error instanceof Error ? error.message : String(error);
}
