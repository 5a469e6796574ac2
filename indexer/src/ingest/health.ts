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
  /** When the indexed block last moved, or ingest last found itself caught up (null before either). */
  lastProgressAt: number | null;
};

export type IngestHealthOptions = {
  pollIntervalMs: number;
  /** Blocks ingest keeps behind the head on purpose: a lag up to this is no lag. */
  confirmations: number;
  /** Asks Kafka for something small; resolves with why it failed, or null when it answered. */
  probeKafka: () => Promise<string | null>;
  now?: () => number;
};

/**
 * Healthy while ingest runs, its last loop iteration succeeded recently (a step or an idle poll), Kafka
 * answers (probed: a dead broker is not noticed by an idle producer) and, when the head is ahead, the
 * indexed block moves. Unhealthy answers say why in `reasons`. Details: block numbers and counts only.
 */
export function ingestHealthCheck(status: () => IngestStatus, options: IngestHealthOptions): HealthCheck {
  const now = options.now ?? Date.now;
  return async () => {
    const current = status();
    const at = now();
    const staleAfterMs = Math.max(30_000, options.pollIntervalMs * 5);
    const seconds = (since: number) => Math.round((at - since) / 1000);
    const lag =
      current.headBlock !== null && current.indexedBlock !== null
        ? current.headBlock - current.indexedBlock
        : null;
    const reasons: string[] = [];
    if (current.state !== "running") reasons.push(`ingest is ${current.state}`);
    else {
      if (current.lastSuccessAt === null) reasons.push("no successful step yet");
      else if (at - current.lastSuccessAt >= staleAfterMs)
        reasons.push(`no successful step for ${seconds(current.lastSuccessAt)} s`);
      if (!current.kafkaConnected) reasons.push("the Kafka producer is disconnected");
      const kafka = await options.probeKafka();
      if (kafka !== null) reasons.push(`Kafka does not answer: ${kafka}`);
      const since = current.lastProgressAt ?? current.lastSuccessAt;
      if (lag !== null && lag > options.confirmations && since !== null && at - since >= staleAfterMs)
        reasons.push(`no progress for ${seconds(since)} s while the head is ${lag} blocks ahead`);
    }
    return {
      ok: reasons.length === 0,
      details: {
        state: current.state,
        indexedBlock: current.indexedBlock,
        headBlock: current.headBlock,
        lagBlocks: lag,
        kafkaConnected: current.kafkaConnected,
        ...(reasons.length > 0 ? { reasons } : {}),
      },
    };
  };
}
