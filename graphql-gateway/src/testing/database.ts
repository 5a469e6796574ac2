import { migrate } from "@carechain/indexer";
import { createTestSchema, getStack } from "@carechain/stack/testing";
import { createDatabase, type Database } from "../database/pool.ts";

/**
 * A database of the gateway's own for one test: a projection schema built by the projector's own
 * migrations (the indexer's `migrate`, as a generation gets them) and a gateway schema beside it, as
 * deployed. Dropped together.
 */
export async function createTestDatabase(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const projection = await createTestSchema("gw_projection");
  const gateway = await createTestSchema("gw_gateway");
  const db = createDatabase({
    url: getStack().databaseUrl,
    projectionSchema: projection.schema,
    gatewaySchema: gateway.schema,
    max: 8,
  });
  const drop = async () => {
    await db.close();
    await Promise.all([projection.drop(), gateway.drop()]);
  };
  try {
    await migrate({ databaseUrl: getStack().databaseUrl, schema: db.projectionSchema });
  } catch (error) {
    await drop();
    throw error;
  }
  return { db, drop };
}
