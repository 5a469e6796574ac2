// Free ports on 127.0.0.1. The OS picks a free port (listen on 0), we close it and hand the number to
// the server; the short gap between the two is an accepted race on a developer machine.
import { createServer, Socket } from "node:net";
import { PortInUseError } from "./errors.ts";

export const HOST = "127.0.0.1";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP address from listen(0)");
  return address.port;
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
