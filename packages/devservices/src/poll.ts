import { setTimeout as delay } from 'node:timers/promises';
import { DevServicesError } from './errors.js';

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What is awaited, for the timeout message, e.g. "Kafka on 127.0.0.1:9092 to answer a metadata request". */
  readonly what: string;
  /** Give up after this many milliseconds from the call. */
  readonly timeoutMs: number;
  /** Pause between two probes; the probe itself decides readiness, never the pause. 250 ms by default. */
  readonly intervalMs?: number;
  /** Cancels the wait. */
  readonly signal?: AbortSignal;
  /** Called before each probe; throw from it to stop early (e.g. the process exited). */
  readonly check?: () => void | Promise<void>;
  /** Builds the text appended to the timeout error (e.g. a log tail). */
  readonly describeFailure?: () => Promise<string>;
  /** What to do about a timeout, in its message. Default: raise the dev services' start-up limit. */
  readonly hint?: string;
}

/**
 * Runs `probe` until it returns a value other than `undefined`, then returns that value.
 * A probe that throws counts as "not ready yet"; the last such error becomes the timeout's cause.
 *
 * @throws DevServicesError `start-timeout` at the deadline, `aborted` when `signal` fires, or whatever `check` throws
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  let lastError: unknown;
  for (;;) {
    if (options.signal?.aborted) {
      throw new DevServicesError('aborted', `waiting for ${options.what} was aborted`, { cause: options.signal.reason });
    }
    await options.check?.();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const tail = (await options.describeFailure?.()) ?? '';
      const last = lastError instanceof Error ? ` Last probe error: ${lastError.message}.` : '';
      const hint = options.hint ?? `${tail ? 'Its log ends as below; o' : 'Nothing was logged yet; o'}n a slow machine raise the limit with --timeout or MILLRACE_DEV_START_TIMEOUT.`;
      throw new DevServicesError(
        'start-timeout',
        `Timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what}.${last} ${hint}`,
        { cause: lastError, ...(tail ? { logTail: tail } : {}) },
      );
    }
    try {
      await delay(Math.min(interval, Math.max(0, deadline - Date.now())), undefined, options.signal ? { signal: options.signal } : {});
    } catch {
      // aborted: reported at the top of the loop
    }
  }
}
