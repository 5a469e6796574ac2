import { type EventEnvelope, eventFeedChannel } from "@carechain/common";
import { lockIdOf } from "../database/migrate.ts";
import { ident, type PoolClient } from "../database/pool.ts";

/**
 * Appends a batch's deliveries to `event_feed`, last thing before COMMIT. The transaction-level advisory
 * lock (released by COMMIT) serializes appends across projector processes, so seq order is commit order:
 * a reader following seq never skips a row that commits later with a lower seq. NOTIFY is delivered on
 * COMMIT only, and not at all on ROLLBACK.
 */
export async function appendFeed(
  client: PoolClient,
  schema: string,
  events: readonly EventEnvelope[],
): Promise<void> {
  if (events.length === 0) return;
  await client.query("SELECT pg_advisory_xact_lock($1)", [lockIdOf(`${schema}:event_feed`)]);
  await client.query(
    `INSERT INTO ${ident(schema)}.event_feed (event_id, type, patient, retracted, envelope)
     SELECT e->>'id', e->>'type', e->'payload'->>'patient', (e->>'retracted')::boolean, e
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
    [JSON.stringify(events)],
  );
  await client.query("SELECT pg_notify($1, $2)", [eventFeedChannel, schema]);
}
