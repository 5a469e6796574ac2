import { ident, type PoolClient } from "../database/pool.ts";

/**
 * The transaction setting that tells the read-version triggers (projection migration 0009) that the writer
 * stamps the addresses of its changes itself; without it, a change counts as a change of everything.
 */
export const addressesStampedSetting = "carechain.addresses_stamped";

/**
 * Stamps `addresses` (every address a row changed in this transaction holds, before or after) with a new
 * read version, last thing before COMMIT. The gateway keeps an answer about some addresses while none of
 * them is stamped after the version it read before computing it. The UPDATE takes read_version's row lock
 * until COMMIT, so no reader can have read this version, or one above it, before the changes are visible.
 */
export async function stampAddresses(
  client: PoolClient,
  schema: string,
  addresses: ReadonlySet<string>,
): Promise<void> {
  if (addresses.size === 0) return;
  const s = ident(schema);
  const { rows } = await client.query<{ version: string }>(
    `UPDATE ${s}.read_version SET version = version + 1 RETURNING version`,
  );
  await client.query(
    `INSERT INTO ${s}.address_version (address, bumped_at) SELECT unnest($1::text[]), $2::bigint
     ON CONFLICT (address) DO UPDATE SET bumped_at = EXCLUDED.bumped_at`,
    [[...addresses], rows[0]!.version],
  );
}
