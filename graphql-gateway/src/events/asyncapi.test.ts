import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, test } from "vitest";
import { asyncApiDocument, asyncApiFile } from "./asyncapi.ts";
import { eventJsonSchema, eventTypes } from "./schema.ts";

const require = createRequire(import.meta.url);

/** The AsyncAPI 3.0.0 specification's own JSON Schema (@asyncapi/specs), compiled once. */
function specValidator() {
  const spec = require("@asyncapi/specs/schemas/3.0.0-without-$id.json") as object;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(spec);
}

describe("AsyncAPI document", () => {
  test("default: the committed document is the generated one (npm run events:schema -w @carechain/gateway)", () => {
    expect(JSON.parse(readFileSync(asyncApiFile, "utf8"))).toEqual(asyncApiDocument());
  });

  test("behavior: it is valid AsyncAPI 3.0.0", () => {
    const validate = specValidator();
    expect(validate(asyncApiDocument()), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
  });

  test("behavior: every event type is a message of both channels, its payload a schema of events.v1.json", () => {
    const doc = asyncApiDocument() as {
      channels: Record<string, { messages: Record<string, { payload: { $ref: string } }> }>;
    };
    const defs = (eventJsonSchema() as { $defs: Record<string, unknown> }).$defs;
    for (const channel of ["webhook", "events"]) {
      expect(Object.keys(doc.channels[channel]!.messages)).toEqual([...eventTypes]);
      for (const [type, message] of Object.entries(doc.channels[channel]!.messages)) {
        const [file, pointer] = message.payload.$ref.split("#");
        expect(file).toBe("./events.v1.json");
        expect(defs[pointer!.replace("/$defs/", "")], type).toBeDefined();
      }
    }
  });

  test("error: the validator refuses a document that breaks the specification", () => {
    const doc = asyncApiDocument() as { operations: Record<string, { action: string }> };
    doc.operations.deliverWebhook!.action = "push";
    expect(specValidator()(doc)).toBe(false);
  });
});
