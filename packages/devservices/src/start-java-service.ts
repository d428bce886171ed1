import { DevServicesError } from './errors.js';
import { readLogTail } from './log-tail.js';
import { pollUntil } from './poll.js';
import { launchJava, stopServiceProcess, type JavaLaunch, type ServiceProcess } from './service-process.js';
import type { ServiceDetails, ServiceHandle } from './service.js';

/** What {@link startJavaService} needs. */
export interface JavaServiceStart {
  /** Human name for messages, e.g. "Kafka on 127.0.0.1:9092". */
  readonly what: string;
  /** How to launch the JVM. */
  readonly launch: JavaLaunch;
  /** Readiness probe: resolves to a value when ready, `undefined` or a rejection when not yet. */
  readonly probe: () => Promise<unknown>;
  /** Readiness deadline. */
  readonly timeoutMs: number;
  /** Exit deadline used when start-up fails and the JVM must be stopped. */
  readonly stopTimeoutMs: number;
  /** Cancels the start; the JVM is stopped. */
  readonly signal?: AbortSignal;
}

/**
 * Launches a JVM and polls its readiness probe until it answers, the JVM exits, the deadline passes or the signal
 * fires. On any failure the JVM is stopped and the error carries the log tail.
 *
 * @returns the running process and the milliseconds it took to become ready
 */
export async function startJavaService(start: JavaServiceStart): Promise<{ process: ServiceProcess; startupMs: number }> {
  const began = Date.now();
  const proc = launchJava(start.launch);
  const tail = () => readLogTail(start.launch.logFile);
  try {
    await pollUntil(async () => ((await start.probe()) === undefined ? undefined : true), {
      what: `${start.what} to become ready (log: ${start.launch.logFile})`,
      timeoutMs: start.timeoutMs,
      intervalMs: 250,
      ...(start.signal ? { signal: start.signal } : {}),
      describeFailure: tail,
      check: async () => {
        if (!proc.isRunning()) {
          throw new DevServicesError(
            'process-exited',
            `${start.what} ${proc.exitDescription()} while starting. The log is ${start.launch.logFile}; its end is below.`,
            { logTail: await tail() },
          );
        }
      },
    });
  } catch (error) {
    await stopServiceProcess(proc.pid, start.launch.mainClass, start.stopTimeoutMs, start.what).catch(() => undefined);
    throw error;
  }
  return { process: proc, startupMs: Date.now() - began };
}

/**
 * Wraps details and a stop function into a {@link ServiceHandle}-shaped object whose `close()` is idempotent.
 *
 * @param details - where the service runs
 * @param stopTimeoutMs - SIGTERM grace period before SIGKILL
 * @param extra - service-specific fields (brokers, URLs)
 */
export function makeServiceHandle<T extends object>(details: ServiceDetails, stopTimeoutMs: number, extra: T): ServiceHandle & T {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= stopServiceProcess(details.pid, details.mainClass, stopTimeoutMs, `${details.service} (pid ${details.pid})`));
  return { ...extra, details, close, [Symbol.asyncDispose]: close };
}
