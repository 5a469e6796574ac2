import { deserializeEnvelope, type EventEnvelope } from "@carechain/common";
import type { Kafka } from "kafkajs";
import { EVENT_HEADERS } from "../../kafka/messages.ts";
import { readToEnd } from "../../kafka/read-to-end.ts";

export type CommittedMessage = {
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
};

/**
 * Every committed (read_committed) message of `topic`, parsed as envelopes, in partition order; the chain
 * clocks only with `clocks: true` (they are not events of the chain: counts and comparisons leave them out).
 */
export async function readCommittedEnvelopes(
  kafka: Kafka,
  topic: string,
  atLeast = 0,
  options: { clocks?: boolean } = {},
): Promise<{ envelope: EventEnvelope; message: CommittedMessage }[]> {
  const raw = await readCommittedRaw(kafka, topic, atLeast, options);
  return raw.map(({ value, ...message }) => ({ envelope: deserializeEnvelope(value), message }));
}

/**
 * Every committed message of `topic`, with its value as text (the chain clocks only with `clocks: true`).
 * A transaction's commit returns before its markers are on every partition: with `atLeast`, reads again
 * (for up to `timeoutMs`) until that many are visible.
 */
export async function readCommittedRaw(
  kafka: Kafka,
  topic: string,
  atLeast = 0,
  { timeoutMs = 15_000, clocks = false }: { timeoutMs?: number; clocks?: boolean } = {},
): Promise<(CommittedMessage & { value: string })[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const messages = (await readOnce(kafka, topic)).filter(
      (message) => clocks || message.headers[EVENT_HEADERS.type] !== "ChainClock",
    );
    if (messages.length >= atLeast || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readOnce(kafka: Kafka, topic: string): Promise<(CommittedMessage & { value: string })[]> {
  const admin = kafka.admin();
  await admin.connect();
  const out: (CommittedMessage & { value: string })[] = [];
  try {
    await readToEnd(kafka, admin, topic, (message, partition) => {
      out.push({
        partition,
        offset: message.offset,
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? "",
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    });
  } finally {
    await admin.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
