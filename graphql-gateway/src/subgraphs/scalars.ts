import { GraphQLError, GraphQLScalarType, Kind } from "../graphql.ts";

const addressPattern = /^0x[0-9a-fA-F]{40}$/;

function parseAddress(value: unknown): string {
  if (typeof value !== "string" || !addressPattern.test(value)) {
    throw new GraphQLError("Address must be 0x followed by 40 hex digits.", {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return value.toLowerCase();
}

/** An Ethereum address; accepted in any case, always returned in lower case. */
export const AddressScalar = new GraphQLScalarType({
  name: "Address",
  description: "An Ethereum address: 0x and 40 hex digits, returned in lower case.",
  serialize: (value) => String(value).toLowerCase(),
  parseValue: parseAddress,
  parseLiteral: (ast) => parseAddress(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDateTime(value: unknown): Date {
  const date = typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value as string)) {
    throw new GraphQLError("DateTime must be an ISO-8601 date-time, e.g. 2024-11-24T07:00:00Z.", {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return date;
}

/** An instant, as ISO-8601 in UTC. */
export const DateTimeScalar = new GraphQLScalarType({
  name: "DateTime",
  description: "An instant as an ISO-8601 string in UTC, e.g. 2024-11-24T07:00:00.000Z.",
  serialize: (value) => (value instanceof Date ? value : new Date(String(value))).toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});

export const scalarResolvers = { Address: AddressScalar, DateTime: DateTimeScalar };
