/**
 * Writes the JSON Schema of every event type (schemas/events.v<N>.json) from the zod schemas in
 * src/events/schema.ts, the one definition, and the AsyncAPI document that refers to it
 * (schemas/asyncapi.v<N>.json, src/events/asyncapi.ts); events/schema.test.ts and asyncapi.test.ts fail
 * while the committed files say anything else.
 *
 *   npm run events:schema -w @carechain/gateway
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runMain } from "@carechain/common";
import { asyncApiFile, asyncApiText } from "../src/events/asyncapi.ts";
import { eventJsonSchemaFile, eventJsonSchemaText } from "../src/events/schema.ts";

runMain(async () => {
  for (const [file, text] of [
    [eventJsonSchemaFile, eventJsonSchemaText()],
    [asyncApiFile, asyncApiText()],
  ] as const) {
    await writeFile(file, text);
    // In the repository's format, so that `npm run lint` passes on the committed file.
    execFileSync("npx", ["biome", "format", "--write", fileURLToPath(file)], { stdio: "ignore" });
    process.stdout.write(`events: wrote ${fileURLToPath(file)}\n`);
  }
  return 0;
});
