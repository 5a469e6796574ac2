// The first page's weight as a browser downloads it: index.html and every script, preload and stylesheet it
// names, gzip-compressed (level 9, as a web server would). Fails above the 300 KB budget. Needs a build.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const BUDGET_BYTES = 300 * 1024;
const dist = fileURLToPath(new URL("../dist/", import.meta.url));

export function firstPageFiles(html: string): string[] {
  const names = [...html.matchAll(/(?:src|href)="\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
  return ["index.html", ...new Set(names)];
}

export function gzipBytes(file: string): number {
  return gzipSync(readFileSync(file), { level: 9 }).length;
}

if (!existsSync(join(dist, "index.html"))) {
  console.error("No build in web/dist: run `npm run build -w @carechain/web` first.");
  process.exit(1);
}
const files = firstPageFiles(readFileSync(join(dist, "index.html"), "utf8"));
let total = 0;
for (const name of files) {
  const bytes = gzipBytes(join(dist, name));
  total += bytes;
  console.log(`${(bytes / 1024).toFixed(1).padStart(8)} KB  ${name}`);
}
console.log(
  `${(total / 1024).toFixed(1).padStart(8)} KB  first page, gzip (budget ${BUDGET_BYTES / 1024} KB)`,
);
if (total > BUDGET_BYTES) {
  console.error("Over budget: lazy-load more of the first page.");
  process.exit(1);
}
