import { ident, type PoolClient } from "../database/pool.ts";

export type DeadLetter = { offset: string; key: Buffer | null; value: Buffer | null; reason: string };

/**
 * Stores messages the projector cannot apply (not a valid envelope, or a value that does not fit a
 * projection), with the reason, in the batch's transaction: the offsets move past them and the consumer
 * goes on. A redelivered message is stored once.
 */
export async function insertDeadLetters(
  client: PoolClient,
  schema: string,
  topic: string,
  partition: number,
  letters: readonly DeadLetter[],
): Promise<void> {
  if (letters.length === 0) return;
  await client.query(
    `INSERT INTO ${ident(schema)}.dead_letters (topic, partition, "offset", key, value, reason)
     SELECT $1, $2, * FROM unnest($3::bigint[], $4::bytea[], $5::bytea[], $6::text[])
     ON CONFLICT DO NOTHING`,
    [
      topic,
      partition,
      letters.map((letter) => letter.offset),
      letters.map((letter) => letter.key),
      letters.map((letter) => letter.value),
      letters.map((letter) => letter.reason),
    ],
  );
}

/** The reason stored with a dead letter: the error's message (with details), never the payload. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message.slice(0, 2000) : String(error);
}
