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
} from "graphql";
import {
  GraphQLError,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} from "../graphql.ts";
import type { Limits } from "../options.ts";
import { AddressScalar, DateTimeScalar } from "../subgraphs/scalars.ts";

/** The size a list field is assumed to have when it takes no `first` argument. */
const defaultListSize = 10;

export type QueryMeasure = { depth: number; cost: number };

function limitError(
  code: "QUERY_TOO_DEEP" | "QUERY_TOO_COSTLY" | "BAD_USER_INPUT",
  message: string,
  extra = {},
) {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 }, ...extra } });
}

/**
 * Measures an operation before it runs: depth (nesting of fields, fragments expanded) and cost (every field
 * costs 1 for each parent item; a field with `first` multiplies the cost of what is under it by its value,
 * a list without `first` by 10), and checks every `first` against the maximum page size. Introspection
 * fields (`__schema`, `__type`) are not counted.
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
      if (fieldName.startsWith("__")) continue;
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
      // A connection's `edges` list is already counted by the connection's `first`.
      const multiplier =
        typeof first === "number"
          ? Math.max(first, 1)
          : isList && !hasFirstArgument && fieldName !== "edges"
            ? defaultListSize
            : 1;
      cost += 1;
      if (selection.selectionSet) {
        const type = field ? getNamedType(field.type) : undefined;
        cost += multiplier * walk(selection.selectionSet, type, fieldDepth, visiting);
      }
    }
    return cost;
  }

  const cost = walk(operation.selectionSet, root, 0, new Set());
  return { depth: maxDepth, cost };
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
  const typeInfo = new TypeInfo(options.schema);
  visit(
    options.operation,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const argument = typeInfo.getArgument();
        if (!argument || node.value.kind === Kind.VARIABLE) return;
        const typeName = getNamedType(argument.type).name;
        check(typeName, valueFromASTUntyped(node.value, options.variables), `Argument ${node.name.value}`);
      },
    }),
  );
}

/**
 * Apollo Server plugin applying the limits once the operation is known (variables included), before any
 * subgraph is asked: QUERY_TOO_DEEP, QUERY_TOO_COSTLY, or BAD_USER_INPUT for a page size over the maximum.
 */
export function limitsPlugin<TContext extends BaseContext>(limits: Limits): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation(requestContext) {
          if (!requestContext.operation) return;
          checkScalarInputs({
            schema: requestContext.schema,
            operation: requestContext.operation,
            variables: requestContext.request.variables ?? {},
          });
          const { depth, cost } = measureOperation({
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
          if (cost > limits.maxCost) {
            throw limitError(
              "QUERY_TOO_COSTLY",
              `Query cost ${cost} exceeds the limit of ${limits.maxCost}; ask for fewer items per page.`,
              { cost, maxCost: limits.maxCost },
            );
          }
        },
      };
    },
  };
}
