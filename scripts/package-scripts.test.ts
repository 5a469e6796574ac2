// Every command a README names works on a fresh clone: each package script installs the dependencies first
// (scripts/ensure-deps.mjs, a no-op when node_modules matches the lock) or only delegates to one that does,
// and every `npm run <script> [-w <workspace>]` a document names exists.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const root = join(import.meta.dirname, "..");
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  workspaces: string[];
  scripts: Record<string, string>;
};
const packages = [
  { dir: ".", ensure: "node scripts/ensure-deps.mjs && " },
  ...rootPackage.workspaces.map((dir) => ({ dir, ensure: "node ../scripts/ensure-deps.mjs && " })),
].map(({ dir, ensure }) => {
  const json = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
    name: string;
    scripts?: Record<string, string>;
  };
  return { dir, ensure, name: json.name, scripts: json.scripts ?? {} };
});

describe("package scripts", () => {
  test("behavior: every script installs the dependencies first or delegates to npm run", () => {
    const unguarded = packages.flatMap(({ dir, ensure, scripts }) =>
      Object.entries(scripts)
        .filter(([, command]) => !command.startsWith(ensure) && !command.startsWith("npm run "))
        .map(([name, command]) => `${dir}: "${name}": "${command}"`),
    );
    expect(unguarded).toEqual([]);
  });

  test("behavior: every `npm run` a README or guide names exists", () => {
    const documents = [
      "README.md",
      "CONTRIBUTING.md",
      ...readdirSync(join(root, "docs")).map((file) => join("docs", file)),
      ...rootPackage.workspaces.map((dir) => join(dir, "README.md")),
    ].filter((file) => file.endsWith(".md"));
    const named = new Set<string>();
    for (const file of documents) {
      let text: string;
      try {
        text = readFileSync(join(root, file), "utf8");
      } catch {
        continue; // a workspace without a README
      }
      for (const match of text.matchAll(/npm run (?:-s )?([a-z][\w:-]*)(?: -w ([@\w/.-]+))?/g)) {
        named.add(`${file}|${match[1]}|${match[2] ?? ""}`);
      }
    }
    expect(named.size).toBeGreaterThan(10);
    const missing = [...named].filter((entry) => {
      const [file, script, workspace] = entry.split("|") as [string, string, string];
      // A bare `npm run x` in a workspace's README may mean the root's script or that workspace's.
      const candidates = workspace
        ? packages.filter((p) => p.name === workspace || p.dir === workspace)
        : packages.filter((p) => p.dir === "." || file.startsWith(`${p.dir}/`));
      return !candidates.some((target) => script in target.scripts);
    });
    expect(missing).toEqual([]);
  });

  test("behavior: npm ci accepts the lock file (ensure-deps and the Dockerfile install with it)", () => {
    // --dry-run checks that package.json files and the lock agree without touching node_modules.
    const output = execFileSync("npm", ["ci", "--dry-run", "--no-audit", "--no-fund"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect(output).toMatch(/up to date|added|removed|changed/);
  }, 60_000);
});
