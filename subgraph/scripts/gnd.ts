// Where `gnd` (graph-node's own subgraph CLI, with graph-node's real runtime: `gnd test`, `gnd dev`) comes
// from, in order:
//   1. GND_BINARY, when set (it must then exist: a wrong path is an error, not a fallback);
//   2. ../shared/tools/gnd beside the repository (this build machine), which is also copied into the cache
//      so that a clone elsewhere on the same machine finds it;
//   3. the cached copy, <cache>/carechain/gnd/<GND_VERSION>/gnd (<cache>: XDG_CACHE_HOME or ~/.cache);
//   4. otherwise GndNotFoundError, whose message says how to install it.
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import pg from "pg";
import { repoDir } from "./manifest.ts";

/** The gnd release the tests are written for (`gnd test` JSON format, `gnd dev` flags). */
export const GND_VERSION = "0.44.0";

export const GND_INSTALL_HINT =
  `gnd ${GND_VERSION} (graph-node's subgraph CLI) was not found. Install it, then set GND_BINARY=/path/to/gnd: ` +
  "download it from graph-node's releases (https://github.com/graphprotocol/graph-node/releases), or build it " +
  "from graph-node's sources: `cargo install --locked --git https://github.com/graphprotocol/graph-node gnd` " +
  "(or `cargo build -p gnd --release` in a checkout: target/release/gnd).";

/** gnd is not installed where we look (or GND_BINARY names no file): installing it is the fix, not a retry. */
export class GndNotFoundError extends Error {
  override name = "GndNotFoundError";
  readonly retryable = false;
}

export interface GndLocation {
  path: string;
  from: "GND_BINARY" | "shared" | "cache";
}

export interface FindGndOptions {
  /** The GND_BINARY variable (read by the caller, at its entry point). */
  gndBinary?: string | undefined;
  /** Default: ../shared/tools/gnd relative to the repository root. */
  sharedPath?: string;
  /** Default: XDG_CACHE_HOME or ~/.cache, then carechain/gnd. */
  cacheDir?: string;
}

/** The user's cache folder for gnd copies (XDG_CACHE_HOME or ~/.cache). */
export function defaultGndCacheDir(xdgCacheHome: string | undefined): string {
  return path.join(xdgCacheHome || path.join(homedir(), ".cache"), "carechain", "gnd");
}

export const defaultSharedGnd = path.join(repoDir, "..", "shared", "tools", "gnd");

export function findGnd(options: FindGndOptions = {}): GndLocation {
  if (options.gndBinary) {
    if (!isFile(options.gndBinary)) {
      throw new GndNotFoundError(`GND_BINARY=${options.gndBinary} is not a file. ${GND_INSTALL_HINT}`);
    }
    return { path: options.gndBinary, from: "GND_BINARY" };
  }
  const cacheDir = options.cacheDir ?? defaultGndCacheDir(undefined);
  const shared = options.sharedPath ?? defaultSharedGnd;
  if (isFile(shared)) {
    cacheCopy(shared, cacheDir);
    return { path: shared, from: "shared" };
  }
  const cached = path.join(cacheDir, GND_VERSION, "gnd");
  if (isFile(cached)) return { path: cached, from: "cache" };
  throw new GndNotFoundError(
    `${GND_INSTALL_HINT} Looked for ${shared} and ${cached}; GND_BINARY is not set.`,
  );
}

/** The version `gnd --version` reports ("gnd 0.44.0 :: ..."). */
export function gndVersion(binary: string): string {
  const output = execFileSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  const match = /^gnd (\d+\.\d+\.\d+)/m.exec(output);
  if (!match) throw new GndNotFoundError(`${binary} --version printed no gnd version: ${output.trim()}`);
  return match[1]!;
}

/**
 * Copies `binary` to <cacheDir>/<its version>/gnd unless a copy of the same size is there. Written to a
 * temporary name and renamed, so that a concurrent run never sees half a file. A cache that cannot be
 * written only costs the next clean clone its fallback: never an error here.
 */
function cacheCopy(binary: string, cacheDir: string): void {
  try {
    const target = path.join(cacheDir, gndVersion(binary), "gnd");
    if (isFile(target) && statSync(target).size === statSync(binary).size) return;
    mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    copyFileSync(binary, partial);
    chmodSync(partial, 0o755);
    renameSync(partial, target);
  } catch {
    // Best effort (read-only home, full disk): the shared binary is used either way.
  }
}

function isFile(file: string): boolean {
  return existsSync(file) && statSync(file).isFile();
}

/**
 * Creates database `name` on the PostgreSQL server of `serverUrl` as graph-node requires it (template0,
 * UTF8, C collation, the extensions pg_trgm, btree_gist and postgres_fdw), unless it exists; returns its
 * URL. graph-node refuses a database with another collation.
 */
export async function ensureGraphNodeDatabase(serverUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new Error(`database name ${name}: lower-case letters, digits, _`);
  await withClient(serverUrl, async (client) => {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) {
      await client.query(
        `CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`,
      );
    }
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await withClient(url.toString(), async (client) => {
    for (const extension of ["pg_trgm", "btree_gist", "postgres_fdw"]) {
      await client.query(`CREATE EXTENSION IF NOT EXISTS ${extension}`);
    }
  });
  return url.toString();
}

export async function dropGraphNodeDatabase(serverUrl: string, name: string): Promise<void> {
  await withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}
