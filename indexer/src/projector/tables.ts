/**
 * The projection tables the projector writes, with their primary keys. `byEvent`: the key is the event id,
 * so a newly applied event cannot find an existing row and nothing needs loading first.
 */
export const projectionTables = {
  patients: { key: ["address"] },
  doctors: { key: ["address"] },
  organizations: { key: ["address"] },
  grants: { key: ["patient", "grantee"] },
  grant_history: { key: ["event_id"], byEvent: true },
  emergency_access: { key: ["patient", "doctor"] },
  records: { key: ["record_id"] },
  devices: { key: ["device"] },
  vitals_ranges: { key: ["patient"] },
  alert_recipients: { key: ["patient"] },
  vital_readings: { key: ["event_id"], byEvent: true },
  alerts: { key: ["event_id"], byEvent: true },
} as const satisfies Record<string, { key: readonly string[]; byEvent?: boolean }>;

export type TableName = keyof typeof projectionTables;
export const tableNames = Object.keys(projectionTables) as TableName[];

/** A row as JSON: column name to value (timestamps as ISO strings, arrays as arrays). */
export type Row = Record<string, unknown>;

export function isTableName(name: string): name is TableName {
  return Object.hasOwn(projectionTables, name);
}

export function keyOf(table: TableName, row: Row): Row {
  const key: Row = {};
  for (const column of projectionTables[table].key) key[column] = row[column];
  return key;
}

/** Map key of a row: table plus its key values. */
export function rowId(table: TableName, key: Row): string {
  return `${table}|${projectionTables[table].key.map((column) => String(key[column])).join("|")}`;
}
