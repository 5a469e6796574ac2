import type { Database } from "../database/pool.ts";
import { documentMetadataLoader } from "../documents/metadata.ts";
import { byKeyLoader, groupedLoader, listByKeyLoader } from "./grouped.ts";
import { type RecordRow, recordColumns } from "./rows.ts";

/** One page of one patient's records: `limit` rows after `after` (block, log index), newest first. */
export type RecordsPageKey = {
  patient: string;
  limit: number;
  after: [number, number] | null;
  type: number | null;
  from: string | null;
  to: string | null;
  includeSuperseded: boolean;
};

/** Per-request loaders of the records subgraph. */
export function createRecordsLoaders(db: Database) {
  const p = db.projection;
  return {
    /** `Record.document`: metadata of the encrypted document with the record's content hash. */
    documents: documentMetadataLoader(db),
    /**
     * Pages of many patients' records in one statement per distinct filter: a lateral join runs the
     * index-backed per-patient query (records_by_patient) for every (patient, cursor).
     */
    recordsPage: groupedLoader<RecordsPageKey, RecordRow[]>(
      (key) => JSON.stringify([key.limit, key.type, key.from, key.to, key.includeSuperseded]),
      async (keys) => {
        const first = keys[0]!;
        const rows = await db.query<RecordRow & { ord: string }>(
          `SELECT k.ord, ${recordColumns("r")}
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS k(patient, cb, cl, ord)
             CROSS JOIN LATERAL (
               SELECT * FROM ${p}.records r
                WHERE r.patient = k.patient
                  AND (k.cb IS NULL OR (r.block_number, r.log_index) < (k.cb, k.cl))
                  AND ($4::smallint IS NULL OR r.record_type = $4)
                  AND ($5::timestamptz IS NULL OR r.block_time >= $5)
                  AND ($6::timestamptz IS NULL OR r.block_time < $6)
                  AND ($7::boolean OR r.superseded_by IS NULL)
                ORDER BY r.block_number DESC, r.log_index DESC
                LIMIT $8
             ) r
            ORDER BY k.ord, r.block_number DESC, r.log_index DESC`,
          [
            keys.map((k) => k.patient),
            keys.map((k) => k.after?.[0] ?? null),
            keys.map((k) => k.after?.[1] ?? null),
            first.type,
            first.from,
            first.to,
            first.includeSuperseded,
            first.limit,
          ],
        );
        const pages = keys.map((): RecordRow[] => []);
        for (const { ord, ...row } of rows) pages[Number(ord) - 1]!.push(row);
        return pages;
      },
    ),
    /** Every version of a record chain, oldest first, by root record id. */
    versions: listByKeyLoader<RecordRow>(
      (roots) =>
        db.query(
          `SELECT ${recordColumns("r")} FROM ${p}.records r WHERE r.root_record_id = ANY($1)
            ORDER BY r.root_record_id, r.version`,
          [roots],
        ),
      (row) => row.rootRecordId,
    ),
    authoredCount: byKeyLoader<{ author: string; count: number }>(
      (authors) =>
        db.query(
          `SELECT author, count(*)::int AS count FROM ${p}.records WHERE author = ANY($1) GROUP BY author`,
          [authors],
        ),
      (row) => row.author,
    ),
  };
}

export type RecordsLoaders = ReturnType<typeof createRecordsLoaders>;
