import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { BlobNotFoundError, type BlobStore, normalizeBlobHash, wrappedKeySize } from "@carechain/documents";
import type { AuditSink } from "../audit/audit-log.ts";
import { isAddress, normalizeAddress, type Viewer } from "../auth/viewer.ts";
import type { Database } from "../database/pool.ts";
import { GatewayError, UnauthenticatedError } from "../errors.ts";
import { type Router, readJsonBody, sendJson } from "../http.ts";
import { defaultMaxDocumentBytes } from "../options.ts";
import { RequestPolicy } from "../policy/index.ts";

export type DocumentsConfig = {
  store: BlobStore;
  /** Largest ciphertext accepted by an upload (bytes); larger ones get 413 PAYLOAD_TOO_LARGE. */
  maxBytes?: number;
};

export const wrappedKeyHeader = "x-carechain-wrapped-key";

/** One request to a document route: the signed-in caller, the path's `:hash` and the query. */
type Call = {
  viewer: Extract<Viewer, { kind: "account" }>;
  requestId: string;
  hash: string;
  query: Record<string, string>;
};

type DocumentRow = { content_hash: string; patient: string; author: string; size: string; created_at: Date };

const forbidden = () => new GatewayError("FORBIDDEN", "You may not read or change this patient's documents.");
/**
 * The one answer, status and body, for a document hash that is unknown or that the caller may not use:
 * telling them apart would reveal which documents exist.
 */
const noSuchDocument = () =>
  new GatewayError("FORBIDDEN", "No such document, or you may not read or change it.");

/**
 * The document endpoints (the client encrypts; the gateway sees ciphertext and wrapped keys only):
 *
 *   POST /documents?patient=0x…        upload ciphertext (streamed) → 201 { contentHash, pointer, size }
 *   GET  /documents?patient=0x…        the patient's documents, each with the caller's wrapped key
 *   GET  /documents/:hash              ciphertext; the caller's wrapped key in `x-carechain-wrapped-key`
 *   GET  /documents/:hash/key          { contentHash, reader, wrappedKey } (base64)
 *   POST /documents/:hash/keys         { keys: [{ reader, wrappedKey }] }: the patient, or the author while
 *                                      it may still write for the patient
 *
 * Reads are decided by the policy module exactly as record queries are (the document's patient,
 * `records`, i.e. READ_RECORDS, emergency access or the patient), and audited. Uploads need what adding a
 * record on chain needs (`canWrite`: the patient or WRITE_RECORDS). An unknown hash and a forbidden one
 * get the same answer.
 */
export function addDocumentRoutes(
  router: Router,
  deps: {
    db: Database;
    audit: AuditSink;
    config: DocumentsConfig;
    /** Who asks (from the bearer token) and the request id. */
    context: (req: IncomingMessage, res: ServerResponse) => Promise<{ viewer: Viewer; requestId: string }>;
  },
): void {
  const { db, audit, config } = deps;
  const store = config.store;
  const maxBytes = config.maxBytes ?? defaultMaxDocumentBytes;

  async function findDocument(hash: string): Promise<DocumentRow | undefined> {
    let normalized: string;
    try {
      normalized = `0x${normalizeBlobHash(hash)}`;
    } catch {
      throw new GatewayError("BAD_USER_INPUT", "A document is named by its 0x SHA-256 hash.");
    }
    const rows = await db.query<DocumentRow>(
      `SELECT content_hash, patient, author, size, created_at FROM ${db.gateway}.documents WHERE content_hash = $1`,
      [normalized],
    );
    return rows[0];
  }

  /** The document, to a caller allowed to read it (audited); anyone else gets `noSuchDocument`. */
  async function readableDocument(hash: string, viewer: Viewer, requestId: string): Promise<DocumentRow> {
    const document = await findDocument(hash);
    if (!document) throw noSuchDocument();
    const policy = new RequestPolicy({ db, viewer, requestId, audit, channel: "query" });
    const decision = await policy.canRead(document.patient, "records");
    if (!decision.allowed) throw noSuchDocument();
    policy.recordRead(document.patient, "records", decision);
    await policy.settled(); // no bytes or key leave before the read is audited
    return document;
  }

  async function wrappedKeyOf(hash: string, reader: string): Promise<Buffer | undefined> {
    const rows = await db.query<{ wrapped_key: Buffer }>(
      `SELECT wrapped_key FROM ${db.gateway}.document_keys WHERE content_hash = $1 AND reader = $2`,
      [hash, reader],
    );
    return rows[0]?.wrapped_key;
  }

  /** Allowed and audited, or FORBIDDEN: the same decision as a `records` query of the patient. */
  async function authorizeRead(viewer: Viewer, requestId: string, patient: string): Promise<void> {
    const policy = new RequestPolicy({ db, viewer, requestId, audit, channel: "query" });
    const decision = await policy.canRead(patient, "records");
    if (!decision.allowed) throw forbidden();
    policy.recordRead(patient, "records", decision);
  }

  function patientParam(query: Call["query"]): string {
    const patient = query.patient;
    if (!isAddress(patient))
      throw new GatewayError("BAD_USER_INPUT", "Name the patient: ?patient=0x… (an address).");
    return normalizeAddress(patient);
  }

  async function upload(req: IncomingMessage, res: ServerResponse, { viewer, requestId, query }: Call) {
    const patient = patientParam(query);
    // The right to add a record on chain (a document is attached to a record its author writes), or the
    // account's own profile document.
    const policy = new RequestPolicy({ db, viewer, requestId, audit, channel: "query" });
    if (!(await policy.canStoreDocument(patient)).allowed) throw forbidden();
    const tooLarge = () =>
      new GatewayError("PAYLOAD_TOO_LARGE", `A document may have at most ${maxBytes} bytes.`);
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.setHeader("connection", "close");
      throw tooLarge();
    }
    let received = 0;
    // Read through an async iterator: a client that disconnects makes it throw, so the store discards
    // the partial write (a piped stream would just stop and leave the write hanging).
    async function* limited(): AsyncGenerator<Uint8Array> {
      for await (const chunk of req) {
        received += (chunk as Buffer).length;
        if (received > maxBytes) throw tooLarge();
        yield chunk as Buffer;
      }
    }
    let stored: { hash: string; size: number };
    try {
      stored = await store.put(limited());
    } catch (error) {
      if (error instanceof GatewayError) res.setHeader("connection", "close");
      throw error;
    }
    if (stored.size === 0) throw new GatewayError("BAD_USER_INPUT", "The document is empty.");
    const contentHash = `0x${stored.hash}`;
    await db.query(
      `INSERT INTO ${db.gateway}.documents (content_hash, patient, author, size) VALUES ($1, $2, $3, $4)
       ON CONFLICT (content_hash) DO NOTHING`,
      [contentHash, patient, viewer.address, stored.size],
    );
    const row = await findDocument(contentHash);
    if (row?.patient !== patient)
      throw new GatewayError("CONFLICT", "This ciphertext belongs to another patient's document.");
    sendJson(res, 201, {
      contentHash,
      pointer: `carechain-document:sha256:${stored.hash}`,
      size: stored.size,
    });
  }

  async function list(_req: IncomingMessage, res: ServerResponse, { viewer, requestId, query }: Call) {
    const patient = patientParam(query);
    await authorizeRead(viewer, requestId, patient);
    const rows = await db.query<DocumentRow & { wrapped_key: Buffer | null }>(
      `SELECT d.content_hash, d.patient, d.author, d.size, d.created_at, k.wrapped_key
         FROM ${db.gateway}.documents d
         LEFT JOIN ${db.gateway}.document_keys k ON k.content_hash = d.content_hash AND k.reader = $2
        WHERE d.patient = $1
        ORDER BY d.created_at DESC, d.content_hash
        LIMIT 1000`,
      [patient, viewer.address],
    );
    sendJson(res, 200, {
      documents: rows.map((row) => ({
        ...metadata(row),
        wrappedKey: row.wrapped_key ? row.wrapped_key.toString("base64") : null,
      })),
    });
  }

  async function download(_req: IncomingMessage, res: ServerResponse, { viewer, requestId, hash }: Call) {
    const document = await readableDocument(hash, viewer, requestId);
    const key = await wrappedKeyOf(document.content_hash, viewer.address);
    const body = await store.get(document.content_hash).catch((error: unknown) => {
      if (error instanceof BlobNotFoundError)
        throw new GatewayError("NOT_FOUND", "The document's ciphertext is not in the store.");
      throw error;
    });
    res.writeHead(200, {
      "access-control-expose-headers": `${wrappedKeyHeader}, x-content-hash`,
      "content-type": "application/octet-stream",
      "content-length": document.size,
      "cache-control": "no-store",
      "x-content-hash": document.content_hash,
      ...(key ? { [wrappedKeyHeader]: key.toString("base64") } : {}),
    });
    await pipeline(body, res);
  }

  async function readKey(_req: IncomingMessage, res: ServerResponse, { viewer, requestId, hash }: Call) {
    const document = await readableDocument(hash, viewer, requestId);
    const key = await wrappedKeyOf(document.content_hash, viewer.address);
    if (!key) throw new GatewayError("NO_KEY", "No key of this document is wrapped for you.");
    sendJson(
      res,
      200,
      { contentHash: document.content_hash, reader: viewer.address, wrappedKey: key.toString("base64") },
      { "cache-control": "no-store" },
    );
  }

  async function addKeys(req: IncomingMessage, res: ServerResponse, { viewer, requestId, hash }: Call) {
    const document = await findDocument(hash);
    if (!document) throw noSuchDocument();
    const isPatient = viewer.address === document.patient;
    // An author shares only while it may still write for the patient: a revoked author adds no readers.
    const policy = new RequestPolicy({ db, viewer, requestId, audit, channel: "query" });
    if (
      !isPatient &&
      (viewer.address !== document.author || !(await policy.canWrite(document.patient)).allowed)
    )
      throw noSuchDocument();
    const body = (await readJsonBody(req, 64 * 1024)) as { keys?: unknown } | undefined;
    const keys = Array.isArray(body?.keys) ? (body.keys as { reader?: unknown; wrappedKey?: unknown }[]) : [];
    if (keys.length === 0 || keys.length > 100)
      throw new GatewayError("BAD_USER_INPUT", "Send { keys: [{ reader, wrappedKey }] } (1 to 100).");
    const readers: string[] = [];
    const wrapped: Buffer[] = [];
    for (const entry of keys) {
      const bytes =
        typeof entry?.wrappedKey === "string" ? Buffer.from(entry.wrappedKey, "base64") : undefined;
      if (!isAddress(entry?.reader) || bytes?.length !== wrappedKeySize)
        throw new GatewayError(
          "BAD_USER_INPUT",
          `Each key names a reader address and a base64 wrapped key of ${wrappedKeySize} bytes.`,
        );
      readers.push(normalizeAddress(entry.reader));
      wrapped.push(bytes);
    }
    // The patient may replace any key (e.g. one an author wrapped wrongly); an author only adds.
    const rows = await db.query<{ reader: string }>(
      `INSERT INTO ${db.gateway}.document_keys (content_hash, reader, wrapped_key, added_by)
       SELECT $1, k.reader, k.wrapped_key, $4 FROM unnest($2::text[], $3::bytea[]) AS k(reader, wrapped_key)
       ON CONFLICT (content_hash, reader) DO ${
         isPatient
           ? "UPDATE SET wrapped_key = excluded.wrapped_key, added_by = excluded.added_by, added_at = now()"
           : "NOTHING"
       }
       RETURNING reader`,
      [document.content_hash, readers, wrapped, viewer.address],
    );
    sendJson(res, 200, { contentHash: document.content_hash, stored: rows.map((row) => row.reader) });
  }

  /** Every document route is for signed-in accounts. */
  const route =
    (handler: (req: IncomingMessage, res: ServerResponse, call: Call) => Promise<void>) =>
    async (
      req: IncomingMessage,
      res: ServerResponse,
      params: Record<string, string | undefined>,
      _store: unknown,
      query: Call["query"],
    ) => {
      const { viewer, requestId } = await deps.context(req, res);
      if (viewer.kind !== "account") throw new UnauthenticatedError("Sign in to use documents.");
      await handler(req, res, { viewer, requestId, hash: params.hash ?? "", query });
    };
  router.on("POST", "/documents", route(upload));
  router.on("GET", "/documents", route(list));
  router.on("GET", "/documents/:hash", route(download));
  router.on("GET", "/documents/:hash/key", route(readKey));
  router.on("POST", "/documents/:hash/keys", route(addKeys));
}

function metadata(row: DocumentRow) {
  return {
    contentHash: row.content_hash,
    patient: row.patient,
    author: row.author,
    size: Number(row.size),
    createdAt: row.created_at.toISOString(),
  };
}
