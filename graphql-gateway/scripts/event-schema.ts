/**
 * Writes the JSON Schema of every event type (schemas/events.v<N>.json) from the zod schemas in
 * src/events/schema.ts, the one definition; events/schema.test.ts fails while the committed file says
 * anything else.
 *
 *   npm run events:schema -w @carechain/gateway
 */
import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { runMain } from "@carechain/common";
import { eventJsonSchemaFile, eventJsonSchemaText } from "../src/events/schema.ts";

runMain(async () => {
  await writeFile(eventJsonSchemaFile, eventJsonSchemaText());
  // In the repository's format, so that `npm run lint` passes on the committed file.
  execFileSync("npx", ["biome", "format", "--write", fileURLToPath(eventJsonSchemaFile)], {
    stdio: "ignore",
  });
  process.stdout.write(`events: wrote ${fileURLToPath(eventJsonSchemaFile)}\n`);
  return 0;
});
