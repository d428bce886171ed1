import type { Clock } from '@millrace/core';

/** How long a connection may take before the user is told that it is still being tried. */
export const SLOW_CONNECT_NOTICE_MS = 5_000;

/** How long one client call of the exactly-once commit path (init, begin, send, offsets, commit) may take before the log says so. */
export const SLOW_COMMIT_STEP_NOTICE_MS = 10_000;

/**
 * Awaits `work`; if it has not settled after `afterMs` on `clock`, calls `notice` once. For connections: the client
 * retries an unreachable broker with backoff for tens of seconds, and the user should not watch a silent job.
 */
export async function noticeIfSlow<T>(clock: Clock, afterMs: number, notice: () => void, work: Promise<T>): Promise<T> {
  const cancel = clock.schedule(clock.now() + afterMs, notice);
  try {
    return await work;
  } finally {
    cancel();
  }
}

/** The notice for a connection that takes long. */
export function stillConnecting(where: string, brokers: readonly string[]): string {
  return `[millrace] ${where}: still connecting to the Kafka brokers ${brokers.join(',')} after ${SLOW_CONNECT_NOTICE_MS / 1000} s; retrying with backoff (the \`retry\` option) before failing — check that they run and that \`brokers\` names them`;
}
