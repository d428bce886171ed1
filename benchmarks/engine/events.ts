/**
 * The one in-memory input both benchmarks read, engine and baseline alike: `makeEvent(i)` is a pure function of the
 * index, so every round and every side sees the same records without holding them in memory.
 *
 * - `key`: one of {@link KEY_COUNT} keys, spread by a hash of the index. String keys (`'k0042'`) by default, taken from a
 *   table built once, so no string is built per record; `--keys number` uses the integers instead.
 * - `value`: 0…999, from other bits of the same hash.
 * - `ts`: event time in epoch ms, 2 ms per record plus 0…511 ms of jitter: increasing, with small disorder (always
 *   less than the 1 s out-of-orderness the window benchmark allows, so no record is late).
 */

/** Distinct keys. */
export const KEY_COUNT = 10_000;
/** Event time of record 0: 2026-01-01T00:00:00Z. */
export const START_MS = Date.UTC(2026, 0, 1);
/** Event-time step between consecutive records. */
export const STEP_MS = 2;
/** Jitter is 0…JITTER_MASK ms. */
export const JITTER_MASK = 511;

/** A small record. */
export interface BenchEvent<K extends string | number = string | number> {
  readonly key: K;
  readonly value: number;
  readonly ts: number;
}

/** Which key type the generator produces. */
export type KeyKind = 'string' | 'number';

/** murmur3's 32-bit finalizer: a cheap, well-spread hash of the index. */
export function mix32(i: number): number {
  let h = i | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Returns the generator for one key type. Both sides of a benchmark must call the same returned function. */
export function eventGenerator(keys: KeyKind): (i: number) => BenchEvent {
  if (keys === 'number') {
    return (i) => {
      const h = mix32(i);
      return { key: h % KEY_COUNT, value: (h >>> 20) % 1000, ts: START_MS + i * STEP_MS + ((h >>> 7) & JITTER_MASK) };
    };
  }
  const names = Array.from({ length: KEY_COUNT }, (_, k) => `k${String(k).padStart(4, '0')}`);
  return (i) => {
    const h = mix32(i);
    return { key: names[h % KEY_COUNT]!, value: (h >>> 20) % 1000, ts: START_MS + i * STEP_MS + ((h >>> 7) & JITTER_MASK) };
  };
}
