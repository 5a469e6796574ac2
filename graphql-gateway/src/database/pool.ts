import pg from "pg";

/**
 * The gateway's access to PostgreSQL: one pool, and the two schemas it reads (the projections, through the
 * projector's views) and owns (nonces, audit log). Table names are written schema-qualified with the quoted
 * names below, so no search_path is needed and one pool serves both.
 */
export type Database = {
  pool: pg.Pool;
  /** Quoted projection schema, e.g. `"carechain"`; SQL says `${db.projection}.patients`. */
  projection: string;
  /** Quoted gateway-owned schema, e.g. `"gateway"`. */
  gateway: string;
  projectionSchema: string;
  gatewaySchema: string;
  /**
   * Runs one statement. `name` prepares it once per connection (a statement run many times a second: the
   * server parses and plans it once); the name must stand for this one text (put the schema in it).
   */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    name?: string,
  ): Promise<R[]>;
  close(): Promise<void>;
};

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function createDatabase(options: {
  url: string;
  projectionSchema: string;
  gatewaySchema: string;
  max?: number;
  applicationName?: string;
}): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "carechain-gateway",
  });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  let closed: Promise<void> | undefined;
  return {
    pool,
    projection: quoteIdent(options.projectionSchema),
    gateway: quoteIdent(options.gatewaySchema),
    projectionSchema: options.projectionSchema,
    gatewaySchema: options.gatewaySchema,
    async query<R extends pg.QueryResultRow>(text: string, params?: unknown[], name?: string) {
      // Through `pool.query` on purpose: tests count statements by wrapping it.
      const result = await (name === undefined
        ? pool.query<R>(text, params)
        : pool.query<R>({ name, text, values: params }));
      return result.rows;
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
