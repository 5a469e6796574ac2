import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from "graphql";
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} from "../graphql.ts";
import type { Limits } from "../options.ts";
import { AddressScalar, DateTimeScalar } from "../subgraphs/scalars.ts";

/** The size a list field is assumed to have when it takes no `first` argument. */
const defaultListSize = 10;

/**
 * What a field that reaches the database costs (per parent item): root fields, entity and list fields. A
 * plain scalar costs 1. Root fields and aliases of a field are each resolved on their own (one SQL
 * statement or more each), so every occurrence counts.
 */
export const databaseFieldCost = 10;

/** What `__schema` and `__type` cost: each is a dump of (part of) the schema, tens of KiB. */
export const introspectionCost = 1_000;

/** How often one response name may appear in one selection set (validation compares them pairwise). */
export const maxRepeatsPerSelectionSet = 4;

/** Connection plumbing: objects the resolver of the connection already built, no database work of their own. */
const plumbingFields = new Set(["edges", "node", "pageInfo"]);

/** Object, interface or union (graphql.ts exports no isCompositeType; a union has `getTypes`). */
function isComposite(type: GraphQLNamedType | undefined): boolean {
  return !!type && (isObjectType(type) || isInterfaceType(type) || "getTypes" in type);
}

export type QueryMeasure = { depth: number; cost: number; rootFields: number };

type LimitCode = "QUERY_TOO_DEEP" | "QUERY_TOO_COSTLY" | "BAD_USER_INPUT" | "PAYLOAD_TOO_LARGE";

function limitError(code: LimitCode, message: string, extra = {}) {
  const status = code === "PAYLOAD_TOO_LARGE" ? 413 : 400;
  return new GraphQLError(message, { extensions: { code, http: { status }, ...extra } });
}

/**
 * Checks a parsed document before validation, in one pass over its syntax tree: validation is quadratic in
 * fields that share a response name, and the document's size is what every later stage pays for. Refuses
 * (QUERY_TOO_COSTLY) more than `maxAliases` aliases, `maxSelections` selections, `maxRootFields` fields at the
 * top of an operation, or a response name repeated more than `maxRepeatsPerSelectionSet` times in one
 * selection set.
 */
export function checkDocumentShape(document: DocumentNode, limits: Limits): void {
  let aliases = 0;
  let selections = 0;
  const tooCostly = (message: string, extra: Record<string, number>) =>
    limitError("QUERY_TOO_COSTLY", message, extra);
  function walk(selectionSet: SelectionSetNode, root: boolean) {
    const seen = new Map<string, number>();
    let rootFields = 0;
    for (const selection of selectionSet.selections) {
      selections += 1;
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) aliases += 1;
        if (root) rootFields += 1;
        const name = (selection.alias ?? selection.name).value;
        const repeats = (seen.get(name) ?? 0) + 1;
        seen.set(name, repeats);
        if (repeats > maxRepeatsPerSelectionSet) {
          throw tooCostly(
            `\`${name}\` is selected ${repeats} times in one selection set; at most ${maxRepeatsPerSelectionSet}.`,
            { maxRepeats: maxRepeatsPerSelectionSet },
          );
        }
      }
      if (selection.kind === Kind.INLINE_FRAGMENT && root)
        rootFields += selection.selectionSet.selections.length;
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet)
        walk(selection.selectionSet, false);
    }
    if (rootFields > limits.maxRootFields) {
      throw tooCostly(`Operation has ${rootFields} top-level fields; the limit is ${limits.maxRootFields}.`, {
        rootFields,
        maxRootFields: limits.maxRootFields,
      });
    }
  }
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) walk(definition.selectionSet, true);
    if (definition.kind === Kind.FRAGMENT_DEFINITION) walk(definition.selectionSet, false);
  }
  if (aliases > limits.maxAliases) {
    throw tooCostly(
      `Query has ${aliases} aliases; the limit is ${limits.maxAliases} (each aliased field runs on its own).`,
      { aliases, maxAliases: limits.maxAliases },
    );
  }
  if (selections > limits.maxSelections) {
    throw tooCostly(`Query has ${selections} selections; the limit is ${limits.maxSelections}.`, {
      selections,
      maxSelections: limits.maxSelections,
    });
  }
}

/**
 * Measures an operation before it runs: depth (nesting of fields, fragments expanded), top-level fields, and
 * cost. Cost: for each parent item, a scalar field costs 1, a field that reaches the database (root fields,
 * fields of object type other than connection plumbing) `databaseFieldCost`, `__schema` / `__type`
 * `introspectionCost` (`__typename` nothing); a field with `first` multiplies the cost of what is under it by
 * its value, a list without `first` by 10, `_entities` (a subgraph's entity fetch) by its representations.
 * Every alias and every fragment use counts again. Checks every `first` against the maximum page size.
 */
export function measureOperation(options: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
  limits: Limits;
}): QueryMeasure {
  const { schema, document, operation, limits } = options;
  // Request variables as sent: the defaults of the operation's variable definitions still apply.
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) {
      variables[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  Object.assign(variables, options.variables);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const root =
    operation.operation === "query"
      ? schema.getQueryType()
      : operation.operation === "mutation"
        ? schema.getMutationType()
        : schema.getSubscriptionType();

  let maxDepth = 0;
  let rootFields = 0;

  function argumentValue(node: FieldNode, name: string, field: GraphQLField<unknown, unknown> | undefined) {
    const argument = node.arguments?.find((arg) => arg.name.value === name);
    if (argument) {
      if (argument.value.kind === Kind.VARIABLE) return variables[argument.value.name.value];
      return valueFromASTUntyped(argument.value, variables);
    }
    return field?.args.find((arg) => arg.name === name)?.defaultValue;
  }

  function walk(
    selectionSet: SelectionSetNode,
    parentType: GraphQLNamedType | null | undefined,
    depth: number,
    visiting: Set<string>,
  ): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment cycle is a validation error already; never recurse into one.
        if (!fragment || visiting.has(name)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        cost += walk(fragment.selectionSet, type, depth, new Set([...visiting, name]));
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition
          ? schema.getType(selection.typeCondition.name.value)
          : parentType;
        cost += walk(selection.selectionSet, type, depth, visiting);
        continue;
      }
      const fieldName = selection.name.value;
      if (depth === 0) rootFields += 1;
      if (fieldName === "__typename") continue;
      if (fieldName === "__schema" || fieldName === "__type") {
        cost += introspectionCost;
        continue;
      }
      const fieldDepth = depth + 1;
      if (fieldDepth > maxDepth) maxDepth = fieldDepth;
      if (maxDepth > limits.maxDepth) {
        throw limitError(
          "QUERY_TOO_DEEP",
          `Query is nested deeper than the limit of ${limits.maxDepth} levels.`,
          { maxDepth: limits.maxDepth },
        );
      }
      const field =
        parentType && (isObjectType(parentType) || isInterfaceType(parentType))
          ? parentType.getFields()[fieldName]
          : undefined;
      const first = argumentValue(selection, "first", field);
      if (first !== undefined && first !== null) {
        if (typeof first !== "number" || !Number.isInteger(first) || first < 0) {
          throw limitError("BAD_USER_INPUT", `\`first\` on ${fieldName} must be a non-negative integer.`);
        }
        if (first > limits.maxPageSize) {
          throw limitError(
            "BAD_USER_INPUT",
            `\`first\` on ${fieldName} is ${first}; the maximum page size is ${limits.maxPageSize}.`,
            { maxPageSize: limits.maxPageSize },
          );
        }
      }
      const isList = field ? isListType(getNullableType(field.type)) : false;
      const hasFirstArgument = !!field?.args.some((arg) => arg.name === "first");
      const representations =
        fieldName === "_entities" ? argumentValue(selection, "representations", field) : undefined;
      // A connection's `edges` list is already counted by the connection's `first`.
      const multiplier = Array.isArray(representations)
        ? Math.max(representations.length, 1)
        : typeof first === "number"
          ? Math.max(first, 1)
          : isList && !hasFirstArgument && fieldName !== "edges"
            ? defaultListSize
            : 1;
      const namedType = field ? getNamedType(field.type) : undefined;
      const plumbing =
        plumbingFields.has(fieldName) && !!parentType && /(Connection|Edge)$/.test(parentType.name);
      const reachesDatabase =
        depth === 0 || (!plumbing && (isComposite(namedType) || (field?.args.length ?? 0) > 0));
      cost += reachesDatabase ? databaseFieldCost : 1;
      if (selection.selectionSet) {
        cost += multiplier * walk(selection.selectionSet, namedType, fieldDepth, visiting);
      }
    }
    return cost;
  }

  const cost = walk(operation.selectionSet, root, 0, new Set());
  return { depth: maxDepth, cost, rootFields };
}

/** Custom scalars the gateway checks itself (its supergraph schema treats them as opaque). */
const checkedScalars: Record<string, (value: unknown) => unknown> = {
  Address: (value) => AddressScalar.parseValue(value),
  DateTime: (value) => DateTimeScalar.parseValue(value),
};

/**
 * Rejects malformed Address and DateTime inputs (literals and variables) at the gateway with
 * BAD_USER_INPUT, before a subgraph sees them: the supergraph knows these scalars only by name.
 */
export function checkScalarInputs(options: {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  variables: Record<string, unknown>;
}): void {
  const check = (typeName: string, value: unknown, where: string) => {
    const parse = checkedScalars[typeName];
    if (!parse || value === null || value === undefined) return;
    for (const item of Array.isArray(value) ? value : [value]) {
      try {
        parse(item);
      } catch (error) {
        throw limitError("BAD_USER_INPUT", `${where}: ${(error as Error).message}`);
      }
    }
  };
  for (const definition of options.operation.variableDefinitions ?? []) {
    let type = definition.type;
    while (type.kind !== Kind.NAMED_TYPE) type = type.type;
    check(
      type.name.value,
      options.variables[definition.variable.name.value],
      `Variable $${definition.variable.name.value}`,
    );
  }
  for (const { typeName, value, name } of literalArgumentsOf(options.schema, options.operation)) {
    check(typeName, valueFromASTUntyped(value, options.variables), `Argument ${name}`);
  }
}

type LiteralArgument = { typeName: string; value: ValueNode; name: string };

// Apollo Server keeps one parsed document per query text, so a repeated operation is the same object: its
// checked arguments are found by one typed walk, not one per request (that walk was ~4 % of the gateway's
// CPU). Keyed by schema too, as a new supergraph may type the same document differently.
const literalArguments = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, LiteralArgument[]>>();

/** The arguments written in the operation (not variables) whose type is a checked scalar, in order. */
function literalArgumentsOf(schema: GraphQLSchema, operation: OperationDefinitionNode): LiteralArgument[] {
  let ofSchema = literalArguments.get(schema);
  if (!ofSchema) {
    ofSchema = new WeakMap();
    literalArguments.set(schema, ofSchema);
  }
  const known = ofSchema.get(operation);
  if (known) return known;
  const found: LiteralArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    operation,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const argument = typeInfo.getArgument();
        if (!argument || node.value.kind === Kind.VARIABLE) return;
        const typeName = getNamedType(argument.type).name;
        if (checkedScalars[typeName]) found.push({ typeName, value: node.value, name: node.name.value });
      },
    }),
  );
  ofSchema.set(operation, found);
  return found;
}

/**
 * The checks that must come before Apollo Server parses and validates a request (its hooks cannot refuse
 * one before validation): the query's length (PAYLOAD_TOO_LARGE, 413), then the document's shape
 * (`checkDocumentShape`, QUERY_TOO_COSTLY). Answers the refusal, or null to go on (a syntax error or a
 * missing query is left to Apollo Server, which reports it as usual). For `executeGraphQL`'s `precheck`.
 */
export function requestPrecheck(
  limits: Limits,
  onRefused: (code: string) => void = () => {},
): (request: { body: unknown; search: string }) => GraphQLError | null {
  return ({ body, search }) => {
    const query =
      body && typeof body === "object" && !Array.isArray(body)
        ? (body as { query?: unknown }).query
        : new URLSearchParams(search).get("query");
    if (typeof query !== "string") return null;
    let refusal: GraphQLError | null = null;
    if (query.length > limits.maxQueryLength) {
      refusal = limitError(
        "PAYLOAD_TOO_LARGE",
        `Query is ${query.length} characters long; the limit is ${limits.maxQueryLength}.`,
        { maxQueryLength: limits.maxQueryLength },
      );
    } else {
      let document: DocumentNode | undefined;
      try {
        document = parse(query, { noLocation: true });
      } catch {
        return null;
      }
      try {
        checkDocumentShape(document, limits);
      } catch (error) {
        refusal = error as GraphQLError;
      }
    }
    if (refusal) onRefused(String(refusal.extensions.code));
    return refusal;
  };
}

/**
 * Apollo Server plugin applying the limits once the operation is known (variables included), before any
 * subgraph is asked: scalar inputs, depth, top-level fields and cost. QUERY_TOO_DEEP, QUERY_TOO_COSTLY, or
 * BAD_USER_INPUT (page size over the maximum, malformed scalars), HTTP 400.
 */
export function limitsPlugin<TContext extends BaseContext>(limits: Limits): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          if (!requestContext.operation) return;
          // The composed schema has subscriptions; they run on the WebSocket (subscriptions.ts), not here.
          if (requestContext.operation.operation === "subscription") {
            throw limitError(
              "BAD_USER_INPUT",
              "Subscriptions are served over WebSocket (graphql-ws) on this path, not over HTTP.",
            );
          }
          checkScalarInputs({
            schema: requestContext.schema,
            operation: requestContext.operation,
            variables: requestContext.request.variables ?? {},
          });
          const { depth, cost, rootFields } = measureOperation({
            schema: requestContext.schema,
            document: requestContext.document,
            operation: requestContext.operation,
            variables: requestContext.request.variables ?? {},
            limits,
          });
          if (depth > limits.maxDepth) {
            throw limitError(
              "QUERY_TOO_DEEP",
              `Query depth ${depth} exceeds the limit of ${limits.maxDepth}.`,
            );
          }
          if (rootFields > limits.maxRootFields) {
            throw limitError(
              "QUERY_TOO_COSTLY",
              `Operation has ${rootFields} top-level fields; the limit is ${limits.maxRootFields}.`,
              { rootFields, maxRootFields: limits.maxRootFields },
            );
          }
          if (cost > limits.maxCost) {
            throw limitError(
              "QUERY_TOO_COSTLY",
              `Query cost ${cost} exceeds the limit of ${limits.maxCost}; ask for fewer items, aliases or fields.`,
              { cost, maxCost: limits.maxCost },
            );
          }
        },
      };
    },
  };
}

/**
 * The limits a subgraph applies to what it receives. The gateway has checked the client's operation; a
 * subgraph sees the query plan's part of it, with entity keys, `__typename` and fragments inlined added, so
 * it allows some slack, and bounds selections by the cost (each costs at least 1) rather than the client's
 * document size.
 */
export function subgraphLimits(limits: Limits): Limits {
  return {
    ...limits,
    maxDepth: limits.maxDepth + 2,
    maxCost: limits.maxCost * 2,
    maxAliases: limits.maxAliases * 2,
    maxRootFields: limits.maxRootFields * 2,
    maxSelections: Math.max(limits.maxSelections, limits.maxCost) * 2,
    maxQueryLength: Number.MAX_SAFE_INTEGER,
  };
}
