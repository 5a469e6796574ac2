// Small, dependency-free parsers for the coverage tests: the projection migrations (SQL) and the subgraph
// schema (GraphQL SDL). They understand what the repo's files use, and fail loudly on what they do not.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

export interface SqlColumn {
  name: string;
  /** Lower-case SQL type, e.g. "text", "bigint", "text[]", "timestamptz". */
  type: string;
  notNull: boolean;
}

export type SqlTables = Map<string, Map<string, SqlColumn>>;

export interface SqlView {
  name: string;
  /** The table of a `SELECT * FROM <table> ...` view; null for any other query. */
  selectAllFrom: string | null;
  query: string;
}

export interface SqlSchema {
  tables: SqlTables;
  views: Map<string, SqlView>;
}

/** Splits on commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of text) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (current.trim() !== "") parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

const unquote = (name: string): string => name.replace(/^"(.*)"$/, "$1");
const tableName = (name: string): string => unquote(name.split(".").pop() ?? name);

function parseColumn(definition: string): SqlColumn {
  const match = /^("[^"]+"|\w+)\s+(.+)$/s.exec(definition);
  if (!match) throw new Error(`cannot parse column definition: ${definition}`);
  const rest = match[2]!;
  const type = rest
    .split(
      /\s+(?:NOT\s+NULL|NULL|DEFAULT|PRIMARY|UNIQUE|REFERENCES|CHECK|GENERATED|COLLATE|CONSTRAINT)\b/i,
    )[0]!
    .trim()
    .toLowerCase();
  return { name: unquote(match[1]!), type, notNull: /\bNOT\s+NULL\b|\bPRIMARY\s+KEY\b/i.test(rest) };
}

function applyAlterAction(
  tables: SqlTables,
  name: string,
  columns: Map<string, SqlColumn>,
  action: string,
): void {
  const add = /^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?(.*)$/is.exec(action);
  if (add) {
    if (/^(?:CONSTRAINT|PRIMARY|UNIQUE|FOREIGN|CHECK)\b/i.test(add[1]!)) return;
    const column = parseColumn(add[1]!);
    columns.set(column.name, column);
    return;
  }
  const drop = /^DROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?("[^"]+"|\w+)/i.exec(action);
  if (drop) {
    if (!/^DROP\s+CONSTRAINT\b/i.test(action)) columns.delete(unquote(drop[1]!));
    return;
  }
  const renameColumn = /^RENAME\s+(?:COLUMN\s+)?("[^"]+"|\w+)\s+TO\s+("[^"]+"|\w+)$/i.exec(action);
  if (renameColumn && renameColumn[1]!.toUpperCase() !== "TO") {
    const column = columns.get(unquote(renameColumn[1]!));
    if (!column) throw new Error(`RENAME of unknown column ${name}.${renameColumn[1]}`);
    columns.delete(column.name);
    column.name = unquote(renameColumn[2]!);
    columns.set(column.name, column);
    return;
  }
  const renameTable = /^RENAME\s+TO\s+([\w."]+)$/i.exec(action);
  if (renameTable) {
    tables.delete(name);
    tables.set(tableName(renameTable[1]!), columns);
    return;
  }
  const nullability = /^ALTER\s+(?:COLUMN\s+)?("[^"]+"|\w+)\s+(SET|DROP)\s+NOT\s+NULL$/i.exec(action);
  if (nullability) {
    const column = columns.get(unquote(nullability[1]!));
    if (column) column.notNull = nullability[2]!.toUpperCase() === "SET";
    return;
  }
  const retype = /^ALTER\s+(?:COLUMN\s+)?("[^"]+"|\w+)\s+(?:SET\s+DATA\s+)?TYPE\s+(\S+)/i.exec(action);
  if (retype) {
    const column = columns.get(unquote(retype[1]!));
    if (column) column.type = retype[2]!.toLowerCase();
  }
}

/** Applies one SQL statement (CREATE/ALTER/DROP TABLE, CREATE/DROP VIEW; others are ignored). */
function applyStatement({ tables, views }: SqlSchema, statement: string): void {
  const view =
    /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."]+)\s+AS\s+(.*)$/is.exec(
      statement,
    );
  if (view) {
    const name = tableName(view[1]!);
    const selectAll = /^SELECT\s+\*\s+FROM\s+([\w."]+)(?:\s+WHERE\b.*)?$/is.exec(view[2]!);
    views.set(name, { name, selectAllFrom: selectAll ? tableName(selectAll[1]!) : null, query: view[2]! });
    return;
  }
  const dropView =
    /^DROP\s+(?:MATERIALIZED\s+)?VIEW\s+(?:IF\s+EXISTS\s+)?(.*?)(?:\s+CASCADE|\s+RESTRICT)?$/is.exec(
      statement,
    );
  if (dropView) {
    for (const name of dropView[1]!.split(",")) views.delete(tableName(name.trim()));
    return;
  }
  const create = /^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w."]+)\s*\((.*)\)$/is.exec(
    statement,
  );
  if (create) {
    const columns = new Map<string, SqlColumn>();
    for (const item of splitTopLevel(create[2]!)) {
      const primaryKey = /^(?:CONSTRAINT\s+\S+\s+)?PRIMARY\s+KEY\s*\(([^)]*)\)/i.exec(item);
      if (primaryKey) {
        for (const name of primaryKey[1]!.split(",").map((n) => unquote(n.trim()))) {
          const column = columns.get(name);
          if (!column) throw new Error(`PRIMARY KEY names unknown column ${name}`);
          column.notNull = true;
        }
        continue;
      }
      if (/^(?:CONSTRAINT|UNIQUE|FOREIGN\s+KEY|CHECK|EXCLUDE)\b/i.test(item)) continue;
      const column = parseColumn(item);
      columns.set(column.name, column);
    }
    tables.set(tableName(create[1]!), columns);
    return;
  }
  const alter = /^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?([\w."]+)\s+(.*)$/is.exec(statement);
  if (alter) {
    const name = tableName(alter[1]!);
    const columns = tables.get(name);
    if (!columns) throw new Error(`ALTER TABLE of unknown table ${name}`);
    for (const action of splitTopLevel(alter[2]!)) applyAlterAction(tables, name, columns, action);
    return;
  }
  const drop = /^DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(.*?)(?:\s+CASCADE|\s+RESTRICT)?$/is.exec(statement);
  if (drop) {
    for (const name of drop[1]!.split(",")) tables.delete(tableName(name.trim()));
  }
}

/**
 * The tables and views after every migration's Up part, in file-name order (node-pg-migrate's order).
 * Only SQL migrations can be read: any other migration file is an error.
 */
export function parseMigrations(dir: string): SqlSchema {
  const schema: SqlSchema = { tables: new Map(), views: new Map() };
  const files = readdirSync(dir).sort();
  for (const file of files) {
    if (!file.endsWith(".sql"))
      throw new Error(`${file}: only .sql migrations can be checked; extend test/parse.ts`);
    const text = readFileSync(path.join(dir, file), "utf8");
    const up = text.split(/^--\s*Down Migration\b.*$/im)[0]!;
    const withoutComments = up.replace(/--.*$/gm, "");
    for (const statement of withoutComments.split(";")) {
      const trimmed = statement.trim().replace(/\s+/g, " ");
      if (trimmed !== "") applyStatement(schema, trimmed);
    }
  }
  return schema;
}

export interface GqlField {
  name: string;
  /** The named type inside list / non-null wrappers. */
  base: string;
  list: boolean;
  nonNull: boolean;
  derived: boolean;
  /** The `field` argument of @derivedFrom (null when not derived, or when the argument is missing). */
  derivedFrom: string | null;
}

export interface GqlType {
  name: string;
  kind: "entity" | "interface";
  immutable: boolean | undefined;
  interfaces: string[];
  fields: Map<string, GqlField>;
}

export interface GqlSchema {
  types: Map<string, GqlType>;
  enums: Set<string>;
}

export const GRAPH_SCALARS = new Set([
  "Bytes",
  "BigInt",
  "BigDecimal",
  "Int",
  "Int8",
  "Boolean",
  "String",
  "ID",
  "Timestamp",
]);

export function parseSchema(sdl: string): GqlSchema {
  const text = sdl
    .replace(/"""[\s\S]*?"""/g, "")
    .replace(/^\s*"[^"\n]*"\s*$/gm, "")
    .replace(/#.*$/gm, "");
  const types = new Map<string, GqlType>();
  const enums = new Set<string>();
  for (const match of text.matchAll(/\benum\s+(\w+)\s*\{/g)) enums.add(match[1]!);
  for (const match of text.matchAll(/\b(type|interface)\s+(\w+)([^{]*)\{([^}]*)\}/g)) {
    const [, keyword, name, header, body] = match as unknown as [string, string, string, string, string];
    const implementsClause = /\bimplements\s+([\w\s&]+?)(?:@|$)/.exec(header.trim());
    const immutable = /@entity\s*\(([^)]*)\)/.exec(header);
    const fields = new Map<string, GqlField>();
    for (const line of body.split("\n")) {
      const field = /^\s*(\w+)\s*:\s*([[\]\w!]+)\s*(.*)$/.exec(line);
      if (!field) {
        if (line.trim() !== "") throw new Error(`cannot parse field of ${name}: ${line.trim()}`);
        continue;
      }
      const typeText = field[2]!;
      fields.set(field[1]!, {
        name: field[1]!,
        base: typeText.replace(/[[\]!]/g, ""),
        list: typeText.startsWith("["),
        nonNull: typeText.endsWith("!"),
        derived: /@derivedFrom\b/.test(field[3]!),
        derivedFrom: /@derivedFrom\s*\(\s*field\s*:\s*"(\w+)"\s*\)/.exec(field[3]!)?.[1] ?? null,
      });
    }
    types.set(name, {
      name,
      kind: keyword === "interface" ? "interface" : "entity",
      immutable: immutable ? /immutable\s*:\s*true/.test(immutable[1]!) : undefined,
      interfaces: implementsClause ? implementsClause[1]!.split("&").map((i) => i.trim()) : [],
      fields,
    });
  }
  return { types, enums };
}

export const camelCase = (snake: string): string =>
  snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * graph-node's rule for @derivedFrom (graph/src/schema/input/mod.rs, validate_derived_from), checked without
 * graph-node: on every entity type, a derived field names a `field` of its base type (an entity or an
 * interface), and that field's type is the entity type itself, or an interface the entity implements that
 * ALSO declares the derived field (or the field is `id`). graph-cli does not check this; graph-node refuses
 * the deployment. The messages are graph-node's.
 */
export function derivedFromProblems(schema: GqlSchema): string[] {
  const problems: string[] = [];
  for (const type of schema.types.values()) {
    if (type.kind !== "entity") continue;
    for (const field of type.fields.values()) {
      if (!field.derived) continue;
      const where = `Field \`${field.name}\` in type \`${type.name}\` has invalid @derivedFrom`;
      if (field.derivedFrom === null) {
        problems.push(`${where}: the @derivedFrom directive must have a \`field\` argument`);
        continue;
      }
      const target = schema.types.get(field.base);
      if (!target) {
        problems.push(`${where}: type must be an existing entity or interface`);
        continue;
      }
      const targetField = target.fields.get(field.derivedFrom);
      if (!targetField) {
        problems.push(`${where}: field \`${field.derivedFrom}\` does not exist on type \`${field.base}\``);
        continue;
      }
      const interfaces = type.interfaces.filter((name) => schema.types.get(name)?.fields.has(field.name));
      if (
        targetField.base === type.name ||
        targetField.name === "id" ||
        interfaces.includes(targetField.base)
      ) {
        continue;
      }
      const signatures = (name: string) => [name, `${name}!`, `[${name}!]`, `[${name}!]!`];
      const valid = [type.name, ...interfaces].flatMap(signatures).join(", ");
      problems.push(
        `${where}: field \`${targetField.name}\` on type \`${field.base}\` must have one of the following types: ${valid}`,
      );
    }
  }
  return problems;
}
