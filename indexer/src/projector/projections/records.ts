import { isZeroHash, recordLinks } from "@carechain/common";
import type { Row, TableName } from "../tables.ts";
import { blockTime, type Projections } from "./values.ts";

/**
 * Records: every version is a row. An amendment is a new row whose previous_record_id names the version it
 * supersedes, and that previous version gets superseded_by set (so the latest has superseded_by IS NULL).
 */
export const recordProjections: Projections = {
  RecordAdded: {
    keys: (e) => {
      const keys: Array<[TableName, Row]> = [["records", { record_id: e.payload.recordId }]];
      if (!isZeroHash(e.payload.previousRecordId))
        keys.push(["records", { record_id: e.payload.previousRecordId }]);
      return keys;
    },
    apply: (e, rows) => {
      const p = e.payload;
      const { rootRecordId, previousRecordId: previous } = recordLinks(p);
      rows.put("records", {
        record_id: p.recordId,
        patient: p.patient,
        author: p.author,
        submitter: p.submitter,
        record_type: p.recordType,
        content_hash: p.contentHash,
        storage_pointer: p.storagePointer,
        previous_record_id: previous,
        root_record_id: rootRecordId,
        version: p.version,
        superseded_by: null,
        block_number: e.blockNumber,
        block_time: blockTime(e),
        log_index: e.logIndex,
        event_id: e.id,
      });
      const prior = previous ? rows.get("records", { record_id: previous }) : null;
      if (prior) rows.put("records", { ...prior, superseded_by: p.recordId });
    },
  },
};
