import DataLoader from "dataloader";
import type { Database } from "../database/pool.ts";

/** What GraphQL shows of a record's document: metadata only (the content is encrypted off chain). */
export type DocumentMetadata = { contentHash: string; patient: string; size: number; createdAt: Date };

/**
 * Per-request loader of document metadata by content hash (one statement per batch). The caller has
 * already been allowed to read the record; `Record.document` checks the document belongs to the record's
 * patient.
 */
export function documentMetadataLoader(db: Database) {
  return new DataLoader<string, DocumentMetadata | null>(
    async (hashes) => {
      const rows = await db.query<{ content_hash: string; patient: string; size: string; created_at: Date }>(
        `SELECT content_hash, patient, size, created_at FROM ${db.gateway}.documents
          WHERE content_hash = ANY($1::text[])`,
        [hashes.map((hash) => hash.toLowerCase())],
      );
      const found = new Map(rows.map((row) => [row.content_hash, row]));
      return hashes.map((hash) => {
        const row = found.get(hash.toLowerCase());
        return row
          ? {
              contentHash: row.content_hash,
              patient: row.patient,
              size: Number(row.size),
              createdAt: row.created_at,
            }
          : null;
      });
    },
    { maxBatchSize: 1000 },
  );
}
