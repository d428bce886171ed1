import type { OutputTag } from './output-tag.js';
import type { StateDescriptor, StatesOf } from './state.js';
import type { Window } from './windows.js';

/** Primitive key types; keys compare by value (as `Map` keys). Compose several fields into a string for composite keys. */
export type Key = string | number | bigint | boolean;

/** Extracts the key of a record. Must be deterministic: the same record always gives the same key. */
export type KeySelector<T, K extends Key> = (value: T) => K;

/**
 * Per-key timers of a keyed process function (Flink's `TimerService`). Timers are deduplicated per key and
 * timestamp, snapshotted in checkpoints, and call `onTimer` once when event time (the watermark) or processing time
 * passes them.
 */
export interface TimerService {
  readonly currentWatermark: number;
  readonly currentProcessingTime: number;
  registerEventTimeTimer(timestamp: number): void;
  registerProcessingTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** Emits results from a user function. */
export interface Collector<O> {
  /** Emits a record; its timestamp is the input's (or the timer's) unless given. */
  emit(value: O, timestamp?: number): void;
  /** Emits to a side output, read with `getSideOutput(tag)`. */
  output<X>(tag: OutputTag<X>, value: X, timestamp?: number): void;
}

/** Context of a (non-keyed) process function. */
export interface ProcessContext<O> extends Collector<O> {
  /** The record's event timestamp, `undefined` without one. */
  readonly timestamp: number | undefined;
  readonly currentWatermark: number;
}

/** A stateless process function over single records: emits zero or more results and side outputs. */
export interface ProcessFunction<T, O> {
  onElement(value: T, ctx: ProcessContext<O>): void;
}

/** Context of a keyed process function. */
export interface KeyedProcessContext<K extends Key, O, S extends Record<string, StateDescriptor>> extends Collector<O> {
  /** The current key. */
  readonly key: K;
  /** The record's (or firing timer's) timestamp. */
  readonly timestamp: number | undefined;
  /** This key's state, one entry per declared descriptor. */
  readonly state: StatesOf<S>;
  readonly timers: TimerService;
}

/** Context of `onTimer`. */
export interface OnTimerContext<K extends Key, O, S extends Record<string, StateDescriptor>> extends KeyedProcessContext<K, O, S> {
  /** Which clock the firing timer was registered on. */
  readonly timeDomain: 'event' | 'processing';
}

/**
 * A keyed process function (Flink's `KeyedProcessFunction`): sees each record with its key's state and timers.
 * Called on one thread at a time per subtask, records of one key in arrival order.
 */
export interface KeyedProcessFunction<K extends Key, T, O, S extends Record<string, StateDescriptor>> {
  onElement(value: T, ctx: KeyedProcessContext<K, O, S>): void;
  onTimer?(timestamp: number, ctx: OnTimerContext<K, O, S>): void;
}

/** What a full-window process function may do besides emitting. */
export interface WindowCollector<O> extends Collector<O> {
  readonly currentWatermark: number;
  readonly currentProcessingTime: number;
}

/**
 * A full-window function (Flink's `ProcessWindowFunction`): receives every record of the key's window when it fires.
 * Results carry the window's `maxTimestamp` as their timestamp.
 */
export type ProcessWindowFunction<K extends Key, T, O, W extends Window> = (
  key: K,
  window: W,
  elements: readonly T[],
  out: WindowCollector<O>,
) => void;

/** Maps an aggregate's result, with its key and window, to the emitted record. */
export type WindowResultFunction<K extends Key, A, O, W extends Window> = (key: K, window: W, result: A) => O;
