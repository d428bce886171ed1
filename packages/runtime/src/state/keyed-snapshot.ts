import type { KeyGroupRange } from '../key-groups.js';
import type { OperatorSnapshot } from '../operators/operator.js';
import type { HeapKeyedStateBackend, KeyedStateEntry } from './heap-keyed-state.js';
import type { InternalTimerService } from './timer-service.js';

/** What an operator with keyed state and timers stores per key group. */
export interface KeyGroupState {
  readonly state: readonly KeyedStateEntry[];
  readonly timers: ReadonlyArray<readonly ['e' | 'p', number, string | number | bigint | boolean, string]>;
}

/** Snapshots keyed state and timers together, per key group. */
export function snapshotKeyed(backend: HeapKeyedStateBackend, timers: InternalTimerService): OperatorSnapshot {
  const state = backend.snapshot();
  const t = timers.snapshot();
  const keyed = new Map<number, KeyGroupState>();
  for (const kg of new Set([...state.keys(), ...t.keys()])) keyed.set(kg, { state: state.get(kg) ?? [], timers: t.get(kg) ?? [] });
  return { keyed };
}

/**
 * Restores the key groups of `range` from the snapshots of every subtask of the previous run; `beforeEach` sees each
 * snapshot's entries first (e.g. to declare state created on the fly). Returns the earliest processing-time timer.
 */
export function restoreKeyed(
  snapshots: readonly OperatorSnapshot[],
  range: KeyGroupRange,
  backend: HeapKeyedStateBackend,
  timers: InternalTimerService,
  beforeEach?: (entries: ReadonlyArray<[number, KeyGroupState]>) => void,
): number | undefined {
  for (const s of snapshots) {
    if (!s.keyed) continue;
    const entries = [...s.keyed] as Array<[number, KeyGroupState]>;
    beforeEach?.(entries);
    backend.restore(entries.map(([kg, v]) => [kg, v.state]), range);
    timers.restore(entries.map(([kg, v]) => [kg, v.timers]), range);
  }
  return timers.nextProcessingTime();
}
