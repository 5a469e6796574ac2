import { DecodeError } from "@carechain/common";
import type { Admin, Kafka, Message } from "kafkajs";
import type { Address, Hex } from "viem";
import { z } from "zod";
import { readToEnd } from "../kafka/read-to-end.ts";
import type { BlockRef } from "./block-window.ts";

/**
 * Where ingest stands, written in the same Kafka transaction as the events it covers: every block up to
 * `block` is in the committed log, and nothing after it. `window` is the recent-hash window (reorg repair).
 */
export type Checkpoint = {
  version: 1;
  chainId: number;
  /** The watched contracts, sorted, lower case: a checkpoint only resumes the same deployment. */
  contracts: Address[];
  block: BlockRef;
  window: BlockRef[];
  /** Events published so far (retractions included), for progress figures. */
  events: number;
};

const hash = z.string().regex(/^0x[0-9a-f]{64}$/) as z.ZodType<Hex>;
const blockRef = z.object({ number: z.number().int().nonnegative(), hash });
const checkpointSchema = z.object({
  version: z.literal(1),
  chainId: z.number().int().positive(),
  contracts: z.array(z.string().regex(/^0x[0-9a-f]{40}$/) as z.ZodType<Address>),
  block: blockRef,
  window: z.array(blockRef),
  events: z.number().int().nonnegative(),
});

/** Compaction keeps the latest checkpoint per key: one key per chain (the topic prefix separates deployments). */
export function checkpointKey(chainId: number): string {
  return `ingest:${chainId}`;
}

export function checkpointMessage(checkpoint: Checkpoint): Message {
  return { key: checkpointKey(checkpoint.chainId), value: JSON.stringify(checkpoint) };
}

export function parseCheckpoint(value: Buffer | null): Checkpoint {
  if (!value) throw new DecodeError("Empty checkpoint message.");
  const parsed = checkpointSchema.safeParse(JSON.parse(value.toString("utf8")));
  if (!parsed.success)
    throw new DecodeError("Invalid checkpoint.", { details: z.prettifyError(parsed.error) });
  return parsed.data;
}

/**
 * The latest COMMITTED checkpoint of `chainId`, or null. Call it after the transactional producer has
 * connected: its init fences a crashed predecessor and settles that one's open transaction, so that the
 * last stable offset covers every transaction ever committed. Reads the tail of the topic only.
 */
export async function readLatestCheckpoint(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  chainId: number,
): Promise<Checkpoint | null> {
  const partition = (await admin.fetchTopicOffsets(topic)).find((entry) => entry.partition === 0);
  if (!partition || BigInt(partition.high) <= BigInt(partition.low)) return null;
  const [end, low] = [BigInt(partition.high), BigInt(partition.low)];
  const key = checkpointKey(chainId);
  // Each transaction adds two offsets (checkpoint + commit marker): the last 256 hold one unless ~128
  // transactions in a row were aborted; then read further back.
  for (let back = 256n; ; back *= 16n) {
    const from = end - back > low ? end - back : low;
    let latest: Checkpoint | null = null;
    await readToEnd(
      kafka,
      admin,
      topic,
      (message) => {
        if (message.key?.toString() === key) latest = parseCheckpoint(message.value);
      },
      { from: { 0: from } },
    );
    if (latest || from === low) return latest;
  }
}
