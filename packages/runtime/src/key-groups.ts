import type { Key } from '@millrace/core';

/**
 * Keys hash into a fixed number of key groups (the job's `maxParallelism`, default 128); each subtask owns a
 * contiguous range of them. State is snapshotted per key group, so restoring at another parallelism only moves
 * whole key groups (Flink's scheme).
 */

/** A stable 32-bit hash of a key (murmur3 finalizer over the key's UTF-16 code units or number bits). */
export function hashKey(key: Key): number {
  let h: number;
  if (typeof key === 'number' && Number.isInteger(key) && key >= -0x80000000 && key <= 0x7fffffff) {
    h = key | 0;
  } else {
    const s = typeof key === 'string' ? key : `${typeof key}:${String(key)}`;
    h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key group of a key. */
export function keyGroupOf(key: Key, maxParallelism: number): number {
  return hashKey(key) % maxParallelism;
}

/** An inclusive range of key groups. */
export interface KeyGroupRange {
  readonly start: number;
  readonly end: number;
}

/** The key groups subtask `index` of `parallelism` owns (Flink's `computeKeyGroupRangeForOperatorIndex`). */
export function keyGroupRange(index: number, parallelism: number, maxParallelism: number): KeyGroupRange {
  return {
    start: Math.ceil((index * maxParallelism) / parallelism),
    end: Math.ceil(((index + 1) * maxParallelism) / parallelism) - 1,
  };
}

/** The subtask that owns key group `keyGroup`. */
export function subtaskOfKeyGroup(keyGroup: number, parallelism: number, maxParallelism: number): number {
  return Math.floor((keyGroup * parallelism) / maxParallelism);
}
