// Ports on 127.0.0.1 for servers that start later (a test system picks every service's port first, so
// that each knows the others'). A port the OS hands out for listen(0) lies in its ephemeral range, and once
// closed any outgoing connection may take it as its local end before our server binds it: CI saw the
// gateway's port held by a client connection, and the gateway failed three restarts with EADDRINUSE.
// So ports are chosen below the ephemeral range, where the OS never picks local ends, free when checked,
// and claimed with a file per port so that concurrent test processes never hand out the same one.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PortInUseError } from "./errors.ts";

export const HOST = "127.0.0.1";

/** Where picked ports are claimed; shared by every CareChain process on the machine. */
const CLAIMS = join(tmpdir(), "carechain-port-claims");
/** A claim outlives its picker's use of it: by then the server has bound the port (or never will). */
const CLAIM_TTL_MS = 10 * 60_000;
const LOWEST = 20_000;

/** [low, high): the ports to pick from, below the OS's ephemeral range (Linux default 32768-60999). */
export function pickRange(ephemeralRange = readEphemeralRange()): [number, number] {
  const high = Math.min(ephemeralRange[0], 32_768);
  return high - LOWEST >= 2_000 ? [LOWEST, high] : [1_024, Math.max(high, 3_024)];
}

function readEphemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined && Number.isInteger(low) && Number.isInteger(high))
      return [low, high];
  } catch {
    // not Linux: macOS and Windows use 49152-65535 by default
  }
  return [49_152, 65_535];
}

export type FreePortOptions = {
  /** [low, high) to pick from; default pickRange(). */
  range?: [number, number];
  /** Folder of the claim files; default one in the OS's temporary folder. */
  claimsDir?: string;
};

/** A port no other CareChain process has claimed and nothing listens on, claimed for this process. */
export async function freePort(options: FreePortOptions = {}): Promise<number> {
  const [low, high] = options.range ?? pickRange();
  const claims = options.claimsDir ?? CLAIMS;
  mkdirSync(claims, { recursive: true });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (!claim(claims, port)) continue;
    if (await canBind(port)) return port;
  }
  throw new PortInUseError(`no free port found in ${low}-${high - 1} on ${HOST} after 200 tries`);
}

/** Creates the port's claim file unless a live claim exists; a claim whose process is gone or that is old is taken over. */
function claim(claims: string, port: number): boolean {
  const file = join(claims, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (!isStale(file)) return false;
    try {
      unlinkSync(file);
    } catch {
      return false; // another process took it over first
    }
  }
  return false;
}

function isStale(file: string): boolean {
  try {
    if (Date.now() - statSync(file).mtimeMs > CLAIM_TTL_MS) return true;
    const pid = Number(readFileSync(file, "utf8"));
    if (!Number.isInteger(pid) || pid <= 0) return true;
    process.kill(pid, 0);
    return false;
  } catch (error) {
    // ESRCH: the claimer is gone; EPERM: it lives under another user; ENOENT: released meanwhile
    return (error as NodeJS.ErrnoException).code !== "EPERM";
  }
}

function canBind(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/**
 * The asked-for port if given (it must be free), else `preferred` (the port of the previous run of a
 * persistent stack) while it is free, else a free one.
 */
export async function choosePort(
  requested: number | undefined,
  server: string,
  envName: string,
  preferred?: number,
) {
  if (requested === undefined) {
    if (preferred !== undefined && !(await isListening(preferred, 500))) return preferred;
    return freePort();
  }
  if (await isListening(requested)) {
    throw new PortInUseError(
      `${server} should listen on port ${requested} (${envName}) but something already does: stop it or unset ${envName}`,
    );
  }
  return requested;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (listening: boolean) => {
      socket.destroy();
      resolve(listening);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.connect(port, HOST);
  });
}
