import { createRequire } from "node:module";

/**
 * graphql-js, always as the one CommonJS instance that Apollo (CommonJS) and graphql-ws load. graphql 16
 * ships both `index.js` and `index.mjs` without an `exports` map: Node picks the CommonJS file, but
 * bundler-style resolvers (vitest) pick the ES module, and two instances break every `instanceof` check
 * ("Cannot use GraphQLObjectType from another module or realm"). Values come from here; types may still
 * be imported from "graphql".
 */
const graphql = createRequire(import.meta.url)("graphql") as typeof import("graphql");

export const {
  buildSchema,
  getNamedType,
  getNullableType,
  GraphQLError,
  GraphQLScalarType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  TypeInfo,
  valueFromASTUntyped,
  visit,
  visitWithTypeInfo,
} = graphql;

export type GraphQLError = import("graphql").GraphQLError;
export type GraphQLScalarType = import("graphql").GraphQLScalarType;
