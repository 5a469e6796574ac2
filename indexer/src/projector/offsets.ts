import { ident, type Pool, type PoolClient } from "../database/pool.ts";

/**
 * Consumed Kafka offsets, stored in the generation's own schema and written in the same transaction as the
 * rows of the batch: after any crash, tables and offsets agree, and the consumer resumes from here.
 * `next_offset` is the next offset to read (last consumed + 1, transaction markers included).
 */

/** Locks the partition's offset row for this transaction (creating it at 0) and returns it. */
export async function lockOffset(
  client: PoolClient,
  schema: string,
  topic: string,
  partition: number,
): Promise<bigint> {
  const table = `${ident(schema)}.kafka_offsets`;
  await client.query(
    `INSERT INTO ${table} (topic, partition, next_offset) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`,
    [topic, partition],
  );
  const { rows } = await client.query<{ next_offset: string }>(
    `SELECT next_offset FROM ${table} WHERE topic = $1 AND partition = $2 FOR UPDATE`,
    [topic, partition],
  );
  return BigInt(rows[0]!.next_offset);
}

/** Moves the partition's offset forward (never back), inside the batch's transaction. */
export async function saveOffset(
  client: PoolClient,
  schema: string,
  topic: string,
  partition: number,
  nextOffset: bigint,
): Promise<void> {
  await client.query(
    `UPDATE ${ident(schema)}.kafka_offsets SET next_offset = greatest(next_offset, $3), updated_at = now()
     WHERE topic = $1 AND partition = $2`,
    [topic, partition, nextOffset.toString()],
  );
}

/** Stored offsets of a topic by partition (partitions never consumed are absent). */
export async function readOffsets(
  db: Pool | PoolClient,
  schema: string,
  topic: string,
): Promise<Map<number, bigint>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    `SELECT partition, next_offset FROM ${ident(schema)}.kafka_offsets WHERE topic = $1`,
    [topic],
  );
  return new Map(rows.map((row) => [row.partition, BigInt(row.next_offset)]));
}
