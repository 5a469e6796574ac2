import type { HealthCheck } from "@carechain/common";
import type { Hex } from "viem";

export type IngestState = "created" | "starting" | "running" | "stopped" | "failed";

export type IngestStatus = {
  state: IngestState;
  chainId: number | null;
  indexedBlock: number | null;
  indexedHash: Hex | null;
  headBlock: number | null;
  events: number;
  kafkaConnected: boolean;
  lastSuccessAt: number | null;
};

/**
 * Healthy while ingest runs, its last loop iteration succeeded recently (a step or an idle poll) and the
 * Kafka producer is connected. Details: block numbers and counts only.
 */
export function ingestHealthCheck(status: () => IngestStatus, pollIntervalMs: number): HealthCheck {
  return async () => {
    const current = status();
    const staleAfterMs = Math.max(30_000, pollIntervalMs * 5);
    const fresh = current.lastSuccessAt !== null && Date.now() - current.lastSuccessAt < staleAfterMs;
    const lag =
      current.headBlock !== null && current.indexedBlock !== null
        ? current.headBlock - current.indexedBlock
        : null;
    return {
      ok: current.state === "running" && fresh && current.kafkaConnected,
      details: {
        state: current.state,
        indexedBlock: current.indexedBlock,
        headBlock: current.headBlock,
        lagBlocks: lag,
        kafkaConnected: current.kafkaConnected,
      },
    };
  };
}
