/**
 * What went wrong while resolving, starting, probing or stopping a dev service.
 *
 * - `java-missing`: no usable `java` (17 or later) on `PATH` or under `JAVA_HOME`.
 * - `mvn-missing`: no `mvn` on `PATH`.
 * - `resolve-failed`: Maven could not resolve the service's jars.
 * - `port-in-use`: a port the service needs is already taken on 127.0.0.1.
 * - `start-timeout`: the service did not answer its readiness probe before the deadline.
 * - `process-exited`: the service's JVM exited while starting.
 * - `stop-failed`: the JVM did not exit after SIGTERM and SIGKILL.
 * - `bad-config`: an option, flag or environment variable has an invalid value.
 * - `not-running`: a command needs a running dev service and none is recorded as running.
 * - `aborted`: the caller's `AbortSignal` fired.
 */
export type DevServicesErrorCode =
  | 'java-missing'
  | 'mvn-missing'
  | 'resolve-failed'
  | 'port-in-use'
  | 'start-timeout'
  | 'process-exited'
  | 'stop-failed'
  | 'bad-config'
  | 'not-running'
  | 'aborted';

/**
 * The single error type thrown by `@millrace/devservices`. The message says what was wrong and what to do;
 * `logTail` carries the last lines of the service's log when there is one.
 */
export class DevServicesError extends Error {
  /** Machine-readable reason, stable across releases. */
  readonly code: DevServicesErrorCode;
  /** The last lines of the service log, when the failure happened after the JVM started. */
  readonly logTail: string | undefined;

  /**
   * @param code - machine-readable reason
   * @param message - what was wrong and what to do about it
   * @param options - `cause` and the service's `logTail`, when known
   */
  constructor(code: DevServicesErrorCode, message: string, options: { cause?: unknown; logTail?: string } = {}) {
    super(options.logTail ? `${message}\n--- last lines of the log ---\n${options.logTail}` : message, { cause: options.cause });
    this.name = 'DevServicesError';
    this.code = code;
    this.logTail = options.logTail;
  }
}

/** Throws a `DevServicesError` with code `aborted` when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) {
    throw new DevServicesError('aborted', `${what} was aborted`, { cause: signal.reason });
  }
}
