import type { EventEnvelope } from "@carechain/common";
import type { Row } from "../tables.ts";
import { blockTime } from "./values.ts";

/** The `events` row of an applied event: the log as applied, for audit; a retraction only marks it. */
export function eventRow(e: EventEnvelope, retracted = false): Row {
  const payload = e.payload as Record<string, unknown>;
  return {
    event_id: e.id,
    type: e.type,
    chain_id: e.chainId,
    block_number: e.blockNumber,
    block_hash: e.blockHash,
    block_time: blockTime(e),
    tx_hash: e.txHash,
    log_index: e.logIndex,
    patient: typeof payload.patient === "string" ? payload.patient : null,
    payload,
    retracted,
  };
}
