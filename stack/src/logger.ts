// A tiny logger to stderr, so stdout stays free for what the CLI prints on purpose (endpoints, status).

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(prefix = "stack"): Logger {
  return {
    info: (message) => process.stderr.write(`[${prefix}] ${message}\n`),
    warn: (message) => process.stderr.write(`[${prefix}] warning: ${message}\n`),
    error: (message) => process.stderr.write(`[${prefix}] error: ${message}\n`),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
