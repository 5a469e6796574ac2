// Coverage both ways between the contracts, the subgraph and the projector's read model:
// - every event in the contracts' JSON ABIs has a handler in the generated manifest and in its mapping file;
// - every table and column of the projection migrations has its entity and field in schema.graphql, through
//   the reviewed mapping below (columns without a counterpart are listed with the reason).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  DATA_SOURCES,
  defaultAbiDir,
  defaultManifestFile,
  generateManifest,
  loadAbiEvents,
  repoDir,
  subgraphDir,
} from "../scripts/manifest.ts";
import {
  camelCase,
  type GqlField,
  GRAPH_SCALARS,
  parseMigrations,
  parseSchema,
  type SqlColumn,
} from "./parse.ts";

const migrationsDir = path.join(repoDir, "indexer", "src", "database", "migrations");
const schema = parseSchema(readFileSync(path.join(subgraphDir, "schema.graphql"), "utf8"));

interface TableMapping {
  /** The entity holding the table's rows; null when the table has no counterpart (give the reason). */
  entity: string | null;
  reason?: string;
  /** Columns whose field is not the camelCase of the column name. */
  fields?: Record<string, string>;
  /** Columns with no counterpart, and why. */
  without?: Record<string, string>;
}

/**
 * Reviewed mapping of the projection tables (the gateway's read model) to the subgraph's entities.
 * A new table or column fails the test until it is mapped here (and added to schema.graphql) or listed as
 * having no counterpart, with the reason.
 */
const TABLES: Record<string, TableMapping> = {
  patients: { entity: "Patient", fields: { address: "id" } },
  doctors: { entity: "Doctor", fields: { address: "id" } },
  organizations: { entity: "Organization", fields: { address: "id" } },
  grants: {
    entity: "Grant",
    without: {
      expired_event_id:
        "the projector's mark that its chain clock announced the expiry (GRANT_EXPIRED in the gateway's event " +
        "feed); graph-node's users compare expiresAt with the block time themselves",
    },
  },
  grant_history: { entity: "GrantEvent", fields: { event_id: "id" } },
  emergency_access: { entity: "EmergencyAccess" },
  records: {
    entity: "Record",
    fields: { record_id: "id", previous_record_id: "previous", root_record_id: "root" },
    without: {
      event_id:
        "the projector's event key (chainId:blockHash:logIndex); a Record is keyed by its record id and " +
        "carries transactionHash + logIndex (graph-node itself tracks the block of every entity version)",
    },
  },
  devices: { entity: "Device", fields: { device: "id" } },
  vitals_ranges: { entity: "VitalsRange" },
  alert_recipients: { entity: "AlertRecipientList" },
  vital_readings: { entity: "VitalReading", fields: { event_id: "id" } },
  alerts: {
    entity: "Alert",
    fields: { event_id: "id" },
    without: {
      final:
        "FINALITY_DEPTH blocks deep, as the projector's chain clock saw it (ALERT_FINAL in the gateway's event " +
        "feed); graph-node users ask for the alert's block against the chain head they index",
      final_event_id: "the ALERT_FINAL the projector announced (for the gateway's event feed)",
    },
  },
  kafka_offsets: {
    entity: null,
    reason: "projector bookkeeping: consumed Kafka offsets (graph-node tracks its block)",
  },
  event_undo: {
    entity: null,
    reason:
      "projector bookkeeping: before-images to undo retracted events (graph-node reverts reorged blocks)",
  },
  dead_letters: { entity: null, reason: "projector bookkeeping: Kafka messages it could not apply" },
  read_version: {
    entity: null,
    reason:
      "the gateway's answer-cache version, bumped by triggers on every change readers see (graph-node " +
      "serves queries at a block of its own)",
  },
  address_version: {
    entity: null,
    reason:
      "the gateway's answer cache: per-address versions the projector stamps (graph-node serves queries at a " +
      "block of its own)",
  },
  event_feed: {
    entity: null,
    reason: "the projector's committed events in commit order, for the gateway's live deliveries",
  },
  events: {
    entity: null,
    reason:
      "the projector's applied-event log (audit/debugging, retraction marks): internal bookkeeping of the " +
      "Kafka pipeline. graph-node records the block of every entity version and undoes reorged blocks " +
      "itself; the append-only entities (GrantEvent, Record, VitalReading, Alert) carry the event coordinates",
  },
};

interface ViewMapping {
  entity: string;
  /** The GraphQL filter that replaces the view; the client supplies $now (Unix seconds). */
  filter: string;
}

/**
 * Views of the projections, each mapped to its table's entity and the GraphQL filter that replaces it (the
 * client supplies $now). None today: the gateway owns the time-based rule (policy/active-access.ts).
 */
const VIEWS: Record<string, ViewMapping> = {};

/** Which GraphQL base types may hold a SQL column type. Relations, enums and interfaces hold ids (text). */
function compatible(column: SqlColumn, field: GqlField): boolean {
  const reference = !GRAPH_SCALARS.has(field.base);
  const sqlList = column.type.endsWith("[]");
  if (sqlList !== field.list) return false;
  const base = column.type.replace(/\[\]$/, "");
  switch (base) {
    case "text":
      return reference || field.base === "Bytes" || field.base === "String";
    case "smallint":
    case "integer":
      return field.base === "Int" || field.base === "BigInt";
    case "bigint":
      return field.base === "BigInt" || field.base === "Int8";
    case "timestamptz":
      return field.base === "BigInt" || field.base === "Timestamp";
    case "boolean":
      return field.base === "Boolean";
    default:
      return false;
  }
}

function readManifest(): { dataSources: ManifestDataSource[] } {
  if (!existsSync(defaultManifestFile)) {
    throw new Error("subgraph/subgraph.yaml not found: run `npm run build -w subgraph` first");
  }
  return parse(readFileSync(defaultManifestFile, "utf8"));
}

/** A JSON ABI (an array of items with a `type`), bare or as Foundry / Hardhat artifacts hold it (`abi`). */
function isAbi(json: unknown): boolean {
  const items = Array.isArray(json) ? json : (json as { abi?: unknown } | null)?.abi;
  return Array.isArray(items) && items.length > 0 && items.every((item) => typeof item?.type === "string");
}

interface ManifestDataSource {
  name: string;
  mapping: {
    file: string;
    entities: string[];
    abis: { name: string; file: string }[];
    eventHandlers: { event: string; handler: string }[];
  };
}

describe("events -> handlers", () => {
  test("default: every event of the contracts' ABIs has a handler in the generated manifest", () => {
    const manifest = readManifest();
    expect(manifest.dataSources.map((ds) => ds.name)).toEqual(DATA_SOURCES.map((ds) => ds.contract));
    for (const { contract } of DATA_SOURCES) {
      const events = loadAbiEvents(contract);
      expect(events.length, contract).toBeGreaterThan(0);
      const dataSource = manifest.dataSources.find((ds) => ds.name === contract)!;
      expect(
        dataSource.mapping.eventHandlers,
        `${contract}: subgraph.yaml is stale or incomplete; run npm run build -w subgraph`,
      ).toEqual(events.map(({ signature, handler }) => ({ event: signature, handler })));
    }
  });

  test("default: every handler is exported by the data source's mapping, and nothing else is", () => {
    for (const { contract, mapping } of DATA_SOURCES) {
      const source = readFileSync(path.join(subgraphDir, mapping), "utf8");
      const events = loadAbiEvents(contract);
      for (const { name, handler } of events) {
        expect(source, `${mapping} must export ${handler}(event: ${name})`).toMatch(
          new RegExp(`export function ${handler}\\(event: ${name}\\): void`),
        );
      }
      const exported = [...source.matchAll(/export function (handle\w+)\(/g)].map((m) => m[1]).sort();
      expect(exported, `${mapping}: handlers without an event`).toEqual(events.map((e) => e.handler).sort());
    }
  });

  test("behavior: the ABIs are referenced from the contracts build, never copied into subgraph/", () => {
    const manifest = readManifest();
    for (const dataSource of manifest.dataSources) {
      for (const abi of dataSource.mapping.abis) {
        expect(path.resolve(subgraphDir, abi.file)).toBe(path.join(defaultAbiDir, `${abi.name}.json`));
      }
    }
    const copies: string[] = [];
    const ignored = new Set(["node_modules", "build", "generated", ".cache"]);
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (ignored.has(entry.name)) continue;
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith(".json") && isAbi(JSON.parse(readFileSync(file, "utf8"))))
          copies.push(file);
      }
    };
    walk(subgraphDir);
    expect(copies).toEqual([]);
  });

  test("behavior: an ABI copy is told apart from other JSON (gnd's tests/*.json, package.json)", () => {
    expect(isAbi(JSON.parse(readFileSync(path.join(defaultAbiDir, "ConsentManager.json"), "utf8")))).toBe(
      true,
    );
    expect(isAbi({ abi: [{ type: "event", name: "E", inputs: [] }] })).toBe(true);
    expect(isAbi(JSON.parse(readFileSync(path.join(subgraphDir, "tests", "consent.json"), "utf8")))).toBe(
      false,
    );
    expect(isAbi(JSON.parse(readFileSync(path.join(subgraphDir, "package.json"), "utf8")))).toBe(false);
  });

  test("behavior: the manifest's entities exist, and every entity is written by some data source", () => {
    const { manifest } = generateManifest();
    const written = new Set(
      (manifest.dataSources as ManifestDataSource[]).flatMap((dataSource) => dataSource.mapping.entities),
    );
    const entities = [...schema.types.values()].filter((t) => t.kind === "entity").map((t) => t.name);
    expect([...written].sort()).toEqual([...entities].sort());
  });
});

describe("projections -> schema", () => {
  const { tables, views } = parseMigrations(migrationsDir);

  test("default: every projection table is mapped to an entity or listed with a reason", () => {
    expect(tables.size).toBeGreaterThan(0);
    expect([...tables.keys()].sort()).toEqual(Object.keys(TABLES).sort());
    for (const [table, mapping] of Object.entries(TABLES)) {
      if (mapping.entity === null) {
        expect(mapping.reason, `${table}: say why it has no entity`).toBeTruthy();
      } else {
        expect(schema.types.get(mapping.entity)?.kind, `${table} -> ${mapping.entity}`).toBe("entity");
      }
    }
  });

  test("default: every view is mapped to its table's entity and a filter documented in README.md", () => {
    const readme = readFileSync(path.join(subgraphDir, "README.md"), "utf8");
    expect([...views.keys()].sort()).toEqual(Object.keys(VIEWS).sort());
    for (const [name, view] of views) {
      const mapping = VIEWS[name]!;
      expect(
        view.selectAllFrom,
        `${name}: only SELECT * views are mapped; extend the mapping`,
      ).not.toBeNull();
      expect(TABLES[view.selectAllFrom!]?.entity, `${name} reads ${view.selectAllFrom}`).toBe(mapping.entity);
      expect(readme, `README.md must show the ${name} filter`).toContain(mapping.filter);
      for (const [, field] of mapping.filter.matchAll(/(\w+?)(?:_gt|_gte|_lt|_lte|_not)?:/g)) {
        if (field === "or") continue;
        expect(schema.types.get(mapping.entity)?.fields.has(field!), `${mapping.entity}.${field}`).toBe(true);
      }
    }
  });

  test("default: every column has its field (same nullability, compatible type) or a stated reason", () => {
    const problems: string[] = [];
    for (const [table, columns] of tables) {
      const mapping = TABLES[table];
      if (!mapping?.entity) continue;
      const entity = schema.types.get(mapping.entity)!;
      for (const column of columns.values()) {
        if (mapping.without?.[column.name]) continue;
        const fieldName = mapping.fields?.[column.name] ?? camelCase(column.name);
        const field = entity.fields.get(fieldName);
        const where = `${table}.${column.name} -> ${entity.name}.${fieldName}`;
        if (!field) {
          problems.push(`${where}: no such field`);
          continue;
        }
        if (field.derived) problems.push(`${where}: a derived field cannot hold a column`);
        if (field.nonNull !== column.notNull) {
          problems.push(
            `${where}: column ${column.notNull ? "NOT NULL" : "nullable"}, field ${field.nonNull ? "non-null" : "nullable"}`,
          );
        }
        if (!compatible(column, field)) problems.push(`${where}: ${column.type} cannot map to ${field.base}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("behavior: the mapping names only existing columns and fields (no stale entries)", () => {
    const problems: string[] = [];
    for (const [table, mapping] of Object.entries(TABLES)) {
      const columns = tables.get(table);
      if (!columns) continue;
      for (const column of [...Object.keys(mapping.fields ?? {}), ...Object.keys(mapping.without ?? {})]) {
        if (!columns.has(column)) problems.push(`${table}.${column}: no such column`);
      }
      for (const [column, reason] of Object.entries(mapping.without ?? {})) {
        if (!reason.trim()) problems.push(`${table}.${column}: give the reason`);
        if (mapping.fields?.[column]) problems.push(`${table}.${column}: both mapped and without`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("behavior: append-only tables are immutable entities with Bytes ids", () => {
    for (const entity of ["GrantEvent", "VitalReading", "Alert"]) {
      expect(schema.types.get(entity)?.immutable, entity).toBe(true);
    }
    for (const type of schema.types.values()) {
      if (type.kind !== "entity") continue;
      expect(type.immutable, `${type.name}: @entity(immutable: ...) must be explicit`).not.toBeUndefined();
      expect(type.fields.get("id"), type.name).toMatchObject({ base: "Bytes", nonNull: true, list: false });
    }
  });

  test("behavior: common queries need no client-side joins (derived fields)", () => {
    const derived = (entity: string, field: string) => schema.types.get(entity)?.fields.get(field)?.derived;
    expect(derived("Patient", "records")).toBe(true);
    expect(derived("Patient", "grants")).toBe(true);
    expect(derived("Patient", "readings")).toBe(true);
    expect(derived("Patient", "alerts")).toBe(true);
    expect(derived("Doctor", "grantsReceived")).toBe(true);
    expect(derived("Doctor", "alertsReceived")).toBe(true);
    expect(derived("Record", "versions")).toBe(true);
    expect(derived("Record", "next")).toBe(true);
  });
});
