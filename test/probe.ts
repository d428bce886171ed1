/**
 * Waiting in the integration tests: readiness probes through the dev services' `pollUntil` (a probe decides, the
 * pause between two probes never does), and a seeded random generator for reproducible kill points.
 */
import { pollUntil } from '@millrace/devservices';

/**
 * Polls `probe` until it returns something other than `undefined` or `false`, and returns that; fails naming `what`
 * after `timeoutMs`. A probe that throws counts as "not yet" (its last error is the timeout's cause).
 */
export function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 120_000, intervalMs = 50): Promise<T> {
  return pollUntil(async () => {
    const v = await probe();
    return v === undefined || v === false ? undefined : v;
  }, { what, timeoutMs, intervalMs, hint: 'The test gave up; the output above shows what the job and the services did.' });
}

/** A small deterministic random generator (mulberry32): the same seed gives the same numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
