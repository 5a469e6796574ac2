// graph-node's schema rules that graph-cli does not check, in milliseconds: a subgraph that `graph build`
// accepts but graph-node refuses to deploy fails here first (gnd.test.ts then proves it on graph-node).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { subgraphDir } from "../scripts/manifest.ts";
import { derivedFromProblems, parseSchema } from "./parse.ts";

const schemaText = readFileSync(path.join(subgraphDir, "schema.graphql"), "utf8");

// One field per line: test/parse.ts reads fields line by line.
const sdl = (interfaceField: string) => `
interface Account {
  id: Bytes!
  ${interfaceField}
}
type Patient implements Account @entity(immutable: false) {
  id: Bytes!
  records: [Record!]! @derivedFrom(field: "author")
}
type Record @entity(immutable: false) {
  id: Bytes!
  author: Account!
  patient: Patient!
}
`;

describe("@derivedFrom, as graph-node validates it", () => {
  test("default: every @derivedFrom of schema.graphql points at a field graph-node accepts", () => {
    const schema = parseSchema(schemaText);
    const derived = [...schema.types.values()].flatMap((type) =>
      [...type.fields.values()].filter((field) => field.derived),
    );
    expect(derived.length).toBeGreaterThan(20);
    expect(derivedFromProblems(schema)).toEqual([]);
  });

  test("error: a reverse field of an interface-typed field the interface does not declare (issue 20)", () => {
    expect(derivedFromProblems(parseSchema(sdl("")))).toEqual([
      "Field `records` in type `Patient` has invalid @derivedFrom: field `author` on type `Record` must have " +
        "one of the following types: Patient, Patient!, [Patient!], [Patient!]!",
    ]);
    // The fix: the interface declares the reverse field too.
    expect(
      derivedFromProblems(parseSchema(sdl('records: [Record!]! @derivedFrom(field: "author")'))),
    ).toEqual([]);
  });

  test("error: the named field or type does not exist, or the argument is missing", () => {
    const missing = `
type A @entity(immutable: false) {
  id: Bytes!
  bs: [B!]! @derivedFrom(field: "nope")
  cs: [C!]! @derivedFrom(field: "a")
  d: B @derivedFrom
}
type B @entity(immutable: false) {
  id: Bytes!
}
`;
    expect(derivedFromProblems(parseSchema(missing))).toEqual([
      "Field `bs` in type `A` has invalid @derivedFrom: field `nope` does not exist on type `B`",
      "Field `cs` in type `A` has invalid @derivedFrom: type must be an existing entity or interface",
      "Field `d` in type `A` has invalid @derivedFrom: the @derivedFrom directive must have a `field` argument",
    ]);
  });
});
