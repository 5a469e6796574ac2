// The stack's own error classes (self-contained: @carechain/common is not a dependency of the stack).
// Every error says whether trying the same thing again can help.

export abstract class StackError extends Error {
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The environment or options are wrong; the message says what to set. */
export class ConfigError extends StackError {
  readonly retryable = false;
}

/** A program the stack needs (java, mvn) is not installed. */
export class MissingToolError extends StackError {
  readonly retryable = false;
}

/** A port that was asked for explicitly is taken by another program. */
export class PortInUseError extends StackError {
  readonly retryable = false;
}

/** A server did not become healthy in time; a slow machine may do better on a second try. */
export class StartupTimeoutError extends StackError {
  readonly retryable = true;

  constructor(
    readonly server: string,
    message: string,
    readonly logTail: string,
  ) {
    super(withTail(message, logTail));
  }
}

/** A server process exited on its own, during start-up or while the stack was running. */
export class ServerExitedError extends StackError {
  readonly retryable = false;

  constructor(
    readonly server: string,
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly logTail: string,
    readonly logFile?: string,
  ) {
    const how = signal ? `killed by ${signal}` : `exited with code ${exitCode}`;
    super(withTail(`${server} ${how}${logFile ? `; log: ${logFile}` : ""}`, logTail));
  }
}

/** A server (ours or one given by URL) does not answer its health check. */
export class HealthCheckError extends StackError {
  readonly retryable = true;

  constructor(
    readonly server: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${server}: ${message}`, options);
  }
}

/** A one-off tool run (Maven, Kafka's storage formatter) failed. */
export class ToolFailedError extends StackError {
  constructor(
    message: string,
    readonly logTail: string,
    readonly retryable: boolean,
  ) {
    super(withTail(message, logTail));
  }
}

/** Start-up was cancelled (Ctrl-C); everything already started was stopped. */
export class StartAbortedError extends StackError {
  readonly retryable = true;
}

function withTail(message: string, logTail: string): string {
  return logTail.trim() === "" ? message : `${message}\n--- last log lines ---\n${logTail.trimEnd()}`;
}
